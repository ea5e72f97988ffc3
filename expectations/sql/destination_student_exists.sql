-- Graduate destinations of this year's and last year's graduates whose student number is unknown.
select g._raw_id, 'student_id' as column_name, g.student_id as value
from core.graduate as g
where g.graduation_year in (year($year_end), year($year_end) - 1)
  and g.student_id not in (select student_id from core.student)
