-- Teaching equipment value: last year's + this year's additions − disposals against this year's, within
-- 1 % (equipment also moves in and out of 教学科研 use without being bought or disposed of).
select
    null as _raw_id,
    'teaching_equipment_10k' as column_name,
    format('去年 {} + 新增 {} − 减少 {} = {}，今年 {}（万元）', l.teaching_equipment_10k,
        t.teaching_equipment_added_10k, t.teaching_equipment_disposed_10k,
        l.teaching_equipment_10k + t.teaching_equipment_added_10k - t.teaching_equipment_disposed_10k,
        t.teaching_equipment_10k) as value
from platform.equipment_assets as t
inner join platform.equipment_assets as l on l.academic_year = $previous_year
where t.academic_year = $academic_year
  and abs(l.teaching_equipment_10k + t.teaching_equipment_added_10k - t.teaching_equipment_disposed_10k
      - t.teaching_equipment_10k) > 0.01 * l.teaching_equipment_10k
