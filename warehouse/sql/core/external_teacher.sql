-- core.external_teacher: teachers engaged from outside (校外兼职 from industry, 校外兼课 from other schools).
with teachers as (
    select * from staging.external_teacher
),

final as (
    select
        teacher_id,
        name,
        gender,
        birth_date,
        id_card,
        kind,
        employer,
        job_title,
        title_code,
        education,
        dept_code,
        engaged_from,
        engaged_to,
        _raw_id
    from teachers
    qualify row_number() over (partition by teacher_id order by _raw_id) = 1
)

select * from final
