-- Students enrolled on the stock date whose class is missing or not in the class table.
select s._raw_id, 'class_id' as column_name, s.class_id as value
from core.student as s
where s.enrolled_on <= $stock_date and (s.left_on is null or s.left_on > $stock_date)
  and (s.class_id is null or s.class_id not in (select class_id from core.class))
