-- Teaching equipment value: last year's reported value + cards acquired − cards disposed of between the
-- two stock dates (from the assets system now) against this year's reported value, within 1 % (a card
-- also leaves 教学科研 use when it is set aside, without being disposed of).
with flow as (
    select
        coalesce(sum(value_yuan) filter (where acquired_on > $previous_stock_date and acquired_on <= $stock_date
            and (disposed_on is null or disposed_on > $stock_date)), 0) / 10000 as added,
        coalesce(sum(value_yuan) filter (where acquired_on <= $previous_stock_date
            and disposed_on > $previous_stock_date and disposed_on <= $stock_date), 0) / 10000 as disposed
    from core.equipment
    where for_teaching_research and unit_price >= $equipment_min_unit_price
)

select
    null as _raw_id,
    'teaching_equipment_10k' as column_name,
    format('去年 {} + 购置 {} − 处置 {} = {}，今年 {}（万元）', l.teaching_equipment_10k, round(f.added, 4),
        round(f.disposed, 4), round(l.teaching_equipment_10k + f.added - f.disposed, 4),
        t.teaching_equipment_10k) as value
from platform.equipment_assets as t
inner join platform.equipment_assets as l on l.academic_year = $previous_year
cross join flow as f
where t.academic_year = $academic_year
  and abs(l.teaching_equipment_10k + f.added - f.disposed - t.teaching_equipment_10k)
      > 0.01 * l.teaching_equipment_10k
