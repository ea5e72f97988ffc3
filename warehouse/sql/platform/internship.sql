-- platform.internship (顶岗实习): per major, the students whose teaching plan puts a placement
-- internship course (name matching $internship_course_pattern) in a term of this academic year,
-- counted among the students enrolled on the stock date, with the off-campus bases serving the major.
-- one row per cohort and major: a student with two internship courses this year is one intern, for both hours
with internship_terms as (
    select p.grade, p.major_id, sum(c.total_hours) as total_hours
    from core.teaching_plan as p
    inner join core.course as c on c.course_id = p.course_id
    where regexp_matches(c.course_name, $internship_course_pattern)
      and p.grade + (p.term_no - 1) // 2 = year($year_start)
    group by p.grade, p.major_id
),

students as (
    select s.*, t.total_hours
    from core.student as s
    inner join internship_terms as t on t.grade = s.grade and t.major_id = s.major_id
    where s.enrolled_on <= $stock_date and (s.left_on is null or s.left_on > $stock_date)
),

bases as (
    select major_id, count(*) as bases, list(_raw_id order by _raw_id) as raw_ids
    from core.practice_base
    where location = '校外' and established_on <= $year_end and (closed_on is null or closed_on >= $year_start)
    group by major_id
),

majors as (
    select * from core.major_code
),

lineage as (  -- interns: the enrolled students; external bases: the bases serving the major
    select m.catalog_code as _key, 'interns' as column_name, s._raw_id, 1.0 as amount
    from students as s
    inner join majors as m on m.major_id = s.major_id
    union all
    select m.catalog_code, 'external_bases', b._raw_id, 1.0
    from (select distinct s.major_id from students as s) as sm
    inner join majors as m on m.major_id = sm.major_id
    inner join core.practice_base as b on b.major_id = sm.major_id
    where b.location = '校外' and b.established_on <= $year_end and (b.closed_on is null or b.closed_on >= $year_start)
),

final as (
    select
        $academic_year as academic_year,
        m.catalog_code,
        m.major_name,
        count(*) as interns,
        max(s.total_hours) as internship_hours,
        coalesce(any_value(b.bases), 0) as external_bases,
        list_concat(list(s._raw_id order by s._raw_id), coalesce(any_value(b.raw_ids), [])) as _raw_ids
    from students as s
    inner join majors as m on m.major_id = s.major_id
    left join bases as b on b.major_id = s.major_id
    group by m.catalog_code, m.major_name
)

select * from final
