-- Teaching tasks whose class is not in the class table.
select k._raw_id, 'class_id' as column_name, k.class_id as value
from staging.teaching_task as k
where k.class_id not in (select c.class_id from staging.class as c where c.class_id is not null)
