-- core.student: one row per student number (学号). A number that appears twice at the source is
-- kept once (the first version by raw id) and flagged with _duplicate_count for the checks.
with students as (
    select * from staging.student
),

final as (
    select
        student_id,
        name,
        gender,
        ethnicity,
        id_card,
        birth_date,
        political_status,
        origin_region,
        enrolled_on,
        grade,
        years_of_study,
        major_id,
        coalesce(direction_code, '') as direction_code,
        class_id,
        status,
        left_on,
        admission_mode,
        origin_type,
        rural_hukou = '1' as rural_hukou,
        count(*) over (partition by student_id) as _duplicate_count,
        _raw_id
    from students
    qualify row_number() over (partition by student_id order by _raw_id) = 1
)

select * from final
