-- core.practice_base: practice bases, on campus (asset system) and off campus (academic system).
with internal as (
    select * from staging.practice_base
    qualify row_number() over (partition by base_id order by _raw_id) = 1
),

external as (
    select * from staging.external_base
    qualify row_number() over (partition by base_id order by _raw_id) = 1
),

final as (
    select
        '校内' as location,
        base_id,
        base_name,
        dept_code,
        null as major_id,
        null as partner,
        null as partner_credit_code,
        building_id,
        floor_area_m2,
        approved_on as established_on,
        null::date as closed_on,
        workstations,
        projects,
        null::integer as capacity,
        null as lodging,
        _raw_id
    from internal
    union all by name
    select
        '校外' as location,
        base_id,
        base_name,
        null as dept_code,
        major_id,
        partner,
        partner_credit_code,
        null as building_id,
        null as floor_area_m2,
        established_on,
        closed_on,
        null as workstations,
        null as projects,
        capacity,
        lodging,
        _raw_id
    from external
)

select * from final
