-- platform.equipment_assets (教学科研仪器设备): equipment in service on the stock date; 教学科研仪器设备
-- are cards used for teaching or research with a unit price at or above $equipment_min_unit_price (元),
-- counted in units (台套: a card's quantity), valued at unit price × quantity.
with cards as (
    select
        *,
        for_teaching_research and unit_price >= $equipment_min_unit_price as counted
    from core.equipment
),

in_service as (
    select * from cards
    where acquired_on <= $stock_date and (disposed_on is null or disposed_on > $stock_date)
),

-- one row per (card, figure it adds to): the figures below are sums of these, and so is their lineage
cells as (
    select _raw_id, value_yuan as amount, 'equipment_total_10k' as column_name from in_service
    union all
    select _raw_id, value_yuan, 'teaching_equipment_10k' from in_service where counted
    union all
    select _raw_id, quantity, 'teaching_equipment_count' from in_service where counted
    union all
    select _raw_id, quantity, 'large_equipment_count' from in_service where counted and unit_price >= 100000
    union all
    select _raw_id, value_yuan, 'teaching_equipment_added_10k' from cards
    where counted and acquired_on between $year_start and $year_end
    union all
    select _raw_id, value_yuan, 'teaching_equipment_disposed_10k' from cards
    where counted and disposed_on between $year_start and $year_end
),

lineage as (  -- amounts in 万元, like the figures
    select
        (select school_code from core.school limit 1) as _key,
        column_name,
        _raw_id,
        case when column_name like '%\_10k' escape '\' then amount / 10000 else amount end::double as amount
    from cells
),

final as (
    select
        $academic_year as academic_year,
        (select school_code from core.school limit 1) as school_code,
        round(coalesce(sum(amount) filter (where column_name = 'equipment_total_10k'), 0) / 10000, 4)
            as equipment_total_10k,
        round(coalesce(sum(amount) filter (where column_name = 'teaching_equipment_10k'), 0) / 10000, 4)
            as teaching_equipment_10k,
        coalesce(sum(amount) filter (where column_name = 'teaching_equipment_count'), 0)::bigint
            as teaching_equipment_count,
        coalesce(sum(amount) filter (where column_name = 'large_equipment_count'), 0)::bigint
            as large_equipment_count,
        round(coalesce(sum(amount) filter (where column_name = 'teaching_equipment_added_10k'), 0) / 10000, 4)
            as teaching_equipment_added_10k,
        round(coalesce(sum(amount) filter (where column_name = 'teaching_equipment_disposed_10k'), 0) / 10000, 4)
            as teaching_equipment_disposed_10k,
        $equipment_min_unit_price as min_unit_price,
        (select list(_raw_id order by _raw_id) from in_service where counted) as _raw_ids
    from cells
)

select * from final
