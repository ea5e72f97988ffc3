-- Teaching tasks whose course is not in the course table.
select k._raw_id, 'course_id' as column_name, k.course_id as value
from staging.teaching_task as k
where k.course_id not in (select c.course_id from staging.course as c where c.course_id is not null)
