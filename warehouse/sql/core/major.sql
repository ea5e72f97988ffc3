-- core.major: one row per major × direction (a major without directions has direction_code ''). A major
-- code of the 2015 catalogue becomes its 2021 successor (major_catalog_crosswalk.csv); R-ZY-002 asks
-- the academic office to update it at the source.
with majors as (
    select * from staging.major
    qualify row_number() over (partition by major_id order by _raw_id) = 1
),

directions as (
    select * from staging.major_direction
    qualify row_number() over (partition by major_id, direction_code order by _raw_id) = 1
),

catalog as (
    select code, name from core.national_code where code_table = 'major_catalog'
),

final as (
    select
        m.major_id,
        coalesce(d.direction_code, '') as direction_code,
        d.direction_name,
        m.major_name,
        core.code_name('major_catalog_crosswalk.successor', m.catalog_code) as catalog_code,
        c.name as catalog_name,
        m.dept_code,
        m.years_of_study,
        m.approved_on,
        m.first_intake_on,
        m.status,
        m.leader_id,
        m.head_id,
        list_filter([m._raw_id, d._raw_id], lambda x: x is not null) as _raw_ids
    from majors as m
    left join directions as d on d.major_id = m.major_id
    left join catalog as c on c.code = core.code_name('major_catalog_crosswalk.successor', m.catalog_code)
)

select * from final
