-- Income and expenditure items that do not add up to their total (item 0), 0.01 万元 for rounding.
select
    null as _raw_id,
    direction as column_name,
    format('各项合计 {} ≠ 总计 {}（万元）',
        sum(amount_10k) filter (where item_no > 0), sum(amount_10k) filter (where item_no = 0)) as value
from platform.finance
where academic_year = $academic_year
group by direction
having abs(coalesce(sum(amount_10k) filter (where item_no > 0), 0)
    - coalesce(sum(amount_10k) filter (where item_no = 0), 0)) > 0.01
