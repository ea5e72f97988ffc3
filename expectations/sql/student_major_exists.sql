-- Students enrolled on the stock date whose major is not in the academic system's major table.
select s._raw_id, 'major_id' as column_name, s.major_id as value
from core.student as s
where s.enrolled_on <= $stock_date and (s.left_on is null or s.left_on > $stock_date)
  and s.major_id not in (select major_id from core.major_code)
