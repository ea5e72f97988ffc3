-- Teaching tasks of the academic year whose teacher is neither staff nor an external teacher.
select k._raw_id, 'teacher_id' as column_name, k.teacher_id as value
from core.teaching_task as k
where k.academic_year = $academic_year
  and k.teacher_id not in (select staff_id from core.staff union all select teacher_id from core.external_teacher)
