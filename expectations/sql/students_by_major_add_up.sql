-- The school's full-time students against the sum of the majors' students, when they differ.
with school as (
    select students_enrolled from platform.school_basic where academic_year = $academic_year
),

majors as (
    select coalesce(sum(students_total), 0) as students from platform.major where academic_year = $academic_year
)

select
    null as _raw_id,
    'students_enrolled' as column_name,
    format('全校 {} ≠ 各专业合计 {}', s.students_enrolled, m.students) as value
from school as s, majors as m
where s.students_enrolled <> m.students
