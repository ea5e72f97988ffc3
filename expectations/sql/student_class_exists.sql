-- Students whose class is not in the class table.
select s._raw_id, 'class_id' as column_name, s.class_id as value
from staging.student as s
where s.class_id is not null
  and s.class_id not in (select c.class_id from staging.class as c where c.class_id is not null)
