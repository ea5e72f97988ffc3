-- core.org_unit: one row per organisational unit (院系与职能部门), from the HR system.
with units as (
    select * from staging.org_unit
),

final as (
    select
        unit_code,
        unit_name,
        unit_kind,
        parent_code,
        founded_on,
        status,
        count(*) over (partition by unit_code) as _duplicate_count,
        _raw_id
    from units
    qualify row_number() over (partition by unit_code order by _raw_id) = 1
)

select * from final
