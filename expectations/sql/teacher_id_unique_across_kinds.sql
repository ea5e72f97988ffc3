-- A 教工号 reported under more than one of the teacher tables of the year (专任, 校内兼课, 校外).
with ids as (
    select staff_id as teacher_id, '校内专任' as kind, _raw_ids from platform.full_time_teacher
    where academic_year = $academic_year
    union all
    select staff_id, '校内兼课', _raw_ids from platform.internal_part_time_teacher
    where academic_year = $academic_year
    union all
    select teacher_id, kind, _raw_ids from platform.external_teacher
    where academic_year = $academic_year
)

select
    any_value(_raw_ids[1]) as _raw_id,
    'teacher_id' as column_name,
    format('{}（{}）', teacher_id, string_agg(kind, '、' order by kind)) as value
from ids
group by teacher_id
having count(*) > 1
