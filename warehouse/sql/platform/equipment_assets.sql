-- platform.equipment_assets (教学科研仪器设备): equipment in service on the stock date; 教学科研仪器设备
-- are cards used for teaching or research with a unit price at or above $equipment_min_unit_price (元).
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

final as (
    select
        $academic_year as academic_year,
        (select school_code from core.school limit 1) as school_code,
        (select round(coalesce(sum(value_yuan), 0) / 10000, 4) from in_service) as equipment_total_10k,
        (select round(coalesce(sum(value_yuan), 0) / 10000, 4) from in_service where counted) as teaching_equipment_10k,
        (select count(*) from in_service where counted) as teaching_equipment_count,
        (select count(*) from in_service where counted and unit_price >= 100000) as large_equipment_count,
        (
            select round(coalesce(sum(value_yuan), 0) / 10000, 4) from cards
            where counted and acquired_on between $year_start and $year_end
        ) as teaching_equipment_added_10k,
        (
            select round(coalesce(sum(value_yuan), 0) / 10000, 4) from cards
            where counted and disposed_on between $year_start and $year_end
        ) as teaching_equipment_disposed_10k,
        $equipment_min_unit_price as min_unit_price,
        (select list(_raw_id) from in_service where counted) as _raw_ids
)

select * from final
