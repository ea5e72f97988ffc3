-- core.equipment: equipment cards (设备台账) with their value in yuan (unit price × quantity).
with cards as (
    select * from staging.equipment
),

final as (
    select
        asset_id,
        asset_name,
        class_code,
        unit_price,
        coalesce(quantity, 1) as quantity,
        unit_price * coalesce(quantity, 1) as value_yuan,
        use,
        use in ('教学', '科研') as for_teaching_research,
        state,
        acquired_on,
        disposed_on,
        dept_code,
        base_id,
        _raw_id
    from cards
    qualify row_number() over (partition by asset_id order by _raw_id) = 1
)

select * from final
