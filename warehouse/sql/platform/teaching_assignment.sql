-- platform.teaching_assignment (授课情况): every teaching task of the academic year with the kind of
-- teacher who gave it (校内专任 / 校内兼课 / 校外兼职 / 校外兼课); the template has one table per kind.
with tasks as (
    select * from core.teaching_task
    where academic_year = $academic_year
),

teachers as (
    select
        staff_id as teacher_id,
        name,
        case when post_type = '专任教师' then '校内专任' else '校内兼课' end as kind,
        _raw_id
    from core.staff
    union all
    select teacher_id, name, kind, _raw_id
    from core.external_teacher
),

courses as (
    select * from core.course
),

classes as (
    select * from core.class
),

majors as (
    select * from core.major_code
),

final as (
    select
        $academic_year as academic_year,
        coalesce(t.kind, '未登记教师') as kind,
        k.teacher_id,
        t.name,
        k.term,
        m.catalog_code,
        m.major_name,
        k.course_id,
        c.course_name,
        c.course_type,
        k.class_id,
        cl.class_name,
        k.hours,
        list_filter([k._raw_id, t._raw_id, c._raw_id, cl._raw_id], lambda x: x is not null) as _raw_ids
    from tasks as k
    left join teachers as t on t.teacher_id = k.teacher_id
    left join courses as c on c.course_id = k.course_id
    left join classes as cl on cl.class_id = k.class_id
    left join majors as m on m.major_id = cl.major_id
)

select * from final
