-- Equipment in service on the stock date with a negative unit price.
select e._raw_id, 'unit_price' as column_name, cast(e.unit_price as varchar) as value
from core.equipment as e
where e.unit_price < 0
  and e.acquired_on <= $stock_date and (e.disposed_on is null or e.disposed_on > $stock_date)
