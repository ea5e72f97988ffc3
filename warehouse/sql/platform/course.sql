-- platform.course (课程设置): courses in the teaching plans of the cohorts enrolled this year,
-- one row per major × course.
with plans as (
    select * from core.teaching_plan
    where grade between year($stock_date) - 2 and year($stock_date)
),

majors as (
    select distinct on (major_id) major_id, major_name, catalog_code, dept_code, _raw_ids
    from core.major
    order by major_id
),

courses as (
    select * from core.course
),

units as (
    select * from core.org_unit
),

per_major as (
    select major_id, course_id, min(term_no) as first_term, list(_raw_id order by _raw_id) as plan_raw_ids
    from plans
    group by major_id, course_id
),

final as (
    select
        $academic_year as academic_year,
        u.unit_name as dept_name,
        m.catalog_code,
        m.major_name,
        p.course_id,
        c.course_name,
        c.course_type,
        c.course_nature,
        c.total_hours,
        c.practice_hours,
        c.credits,
        case when c.is_core then '是' else '否' end as is_core,
        p.first_term,
        list_concat(p.plan_raw_ids, [c._raw_id]) as _raw_ids
    from per_major as p
    left join majors as m on m.major_id = p.major_id
    left join courses as c on c.course_id = p.course_id
    left join units as u on u.unit_code = m.dept_code
)

select * from final
