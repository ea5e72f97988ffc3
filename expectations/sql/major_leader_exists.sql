-- Majors whose 专业带头人 or 专业负责人 is not a member of staff.
with staff as (select s.staff_id from staging.staff as s where s.staff_id is not null)

select m._raw_id, 'leader_id' as column_name, m.leader_id as value
from staging.major as m
where m.leader_id not in (select staff_id from staff)
union all
select m._raw_id, 'head_id' as column_name, m.head_id as value
from staging.major as m
where m.head_id not in (select staff_id from staff)
