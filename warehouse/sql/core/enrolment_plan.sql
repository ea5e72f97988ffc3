-- core.enrolment_plan: the admissions office's plan and registration figures per intake year and major
-- (a major code of the 2015 catalogue becomes its 2021 successor, major_catalog_crosswalk.csv).
with plans as (
    select * from staging.enrolment_plan
),

final as (
    select
        cast(intake_year as integer) as intake_year,
        core.code_name('major_catalog_crosswalk.successor', catalog_code) as catalog_code,
        major_name,
        planned,
        admitted,
        registered,
        in_province,
        _raw_id
    from plans
    qualify row_number() over (
        partition by intake_year, core.code_name('major_catalog_crosswalk.successor', catalog_code) order by _raw_id
    ) = 1
)

select * from final
