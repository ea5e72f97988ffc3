-- core.teaching_task: teacher × course × class × term, with the academic year it belongs to.
with tasks as (
    select * from staging.teaching_task
),

final as (
    select
        task_id,
        term,
        left(term, 9) as academic_year,   -- '2026-2027-1' -> '2026-2027'
        course_id,
        class_id,
        teacher_id,
        hours,
        _raw_id
    from tasks
    qualify row_number() over (partition by task_id order by _raw_id) = 1
)

select * from final
