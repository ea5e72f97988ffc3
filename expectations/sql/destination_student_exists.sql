-- Graduate destination records whose student number is not in the student register.
select g._raw_id, 'student_id' as column_name, g.student_id as value
from staging.graduate_destination as g
where g.student_id not in (select s.student_id from staging.student as s where s.student_id is not null)
