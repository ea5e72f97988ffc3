-- Courses whose practice hours exceed their total hours.
select c._raw_id, 'practice_hours' as column_name, format('{} > {}', c.practice_hours, c.total_hours) as value
from core.course as c
where c.practice_hours > c.total_hours
