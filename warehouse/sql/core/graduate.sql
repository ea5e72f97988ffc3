-- core.graduate: graduates' destinations (毕业去向) reported by the admissions & employment office.
with destinations as (
    select * from staging.graduate_destination
),

final as (
    select
        cast(graduation_year as integer) as graduation_year,
        student_id,
        destination_code,
        destination,
        employer,
        employer_credit_code,
        region,
        _raw_id
    from destinations
    qualify row_number() over (partition by graduation_year, student_id order by _raw_id) = 1
)

select * from final
