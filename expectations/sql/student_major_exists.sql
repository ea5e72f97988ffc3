-- Students (every current source row, whatever the year) whose major is not in the major table.
select s._raw_id, 'major_id' as column_name, s.major_id as value
from staging.student as s
where s.major_id not in (select m.major_id from staging.major as m where m.major_id is not null)
