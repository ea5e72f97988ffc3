-- core.teaching_plan: which course each cohort (grade) of a major takes in which term (1-6).
with plans as (
    select * from staging.teaching_plan
),

final as (
    select
        grade,
        major_id,
        course_id,
        term_no,
        assessment,
        _raw_id
    from plans
    qualify row_number() over (partition by grade, major_id, course_id order by _raw_id) = 1
)

select * from final
