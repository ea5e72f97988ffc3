-- core.course: one row per course code of the academic system's course catalogue.
with courses as (
    select * from staging.course
),

final as (
    select
        course_id,
        course_name,
        course_type,
        course_nature,
        total_hours,
        practice_hours,
        credits,
        dept_code,
        is_core = '1' as is_core,
        count(*) over (partition by course_id) as _duplicate_count,
        _raw_id
    from courses
    qualify row_number() over (partition by course_id order by _raw_id) = 1
)

select * from final
