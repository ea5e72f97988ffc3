-- platform.teaching_workload (教学工作量): per teacher and academic year, the teaching hours, courses
-- and classes of the year's tasks, by kind of teacher (one national table per kind).
with assignments as (
    select * from platform.teaching_assignment
    where academic_year = $academic_year
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
        flatten(list(_raw_ids)) as _raw_ids
    from assignments
    group by kind, teacher_id
)

select * from final
