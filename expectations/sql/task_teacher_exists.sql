-- Teaching tasks whose teacher is neither staff nor an external teacher.
select k._raw_id, 'teacher_id' as column_name, k.teacher_id as value
from staging.teaching_task as k
where k.teacher_id not in (
    select s.staff_id from staging.staff as s where s.staff_id is not null
    union all
    select e.teacher_id from staging.external_teacher as e where e.teacher_id is not null
)
