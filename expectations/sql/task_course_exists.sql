-- Teaching tasks of the academic year whose course is not in the course table.
select k._raw_id, 'course_id' as column_name, k.course_id as value
from core.teaching_task as k
where k.academic_year = $academic_year
  and k.course_id not in (select course_id from core.course)
