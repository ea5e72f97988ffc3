-- platform.teaching_workload (教学工作量): per teacher and academic year, the teaching hours, courses
-- and classes of the year's tasks, by kind of teacher (one national table per kind).
with assignments as (
    select * from platform.teaching_assignment
    where academic_year = $academic_year
),

lineage as (  -- each teaching task adds its hours and counts once; a course or class counts at its first task
    select concat_ws('|', kind, teacher_id) as _key, column_name, _raw_id, amount
    from (
        select kind, teacher_id, 'teaching_hours' as column_name, _raw_ids[1] as _raw_id, hours::double as amount
        from assignments where hours is not null
        union all
        select kind, teacher_id, 'tasks', _raw_ids[1], 1.0 from assignments
        union all
        select kind, teacher_id, 'courses', min(_raw_ids[1]), 1.0 from assignments
        where course_id is not null group by kind, teacher_id, course_id
        union all
        select kind, teacher_id, 'classes', min(_raw_ids[1]), 1.0 from assignments
        where class_id is not null group by kind, teacher_id, class_id
    )
),

final as (
    select
        $academic_year as academic_year,
        kind,
        teacher_id,
        any_value(name) as name,
        sum(hours) as teaching_hours,
        count(distinct course_id) as courses,
        count(distinct class_id) as classes,
        count(*) as tasks,
        flatten(list(_raw_ids order by _raw_ids)) as _raw_ids
    from assignments
    group by kind, teacher_id
)

select * from final
