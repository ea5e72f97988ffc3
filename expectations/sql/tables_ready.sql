-- National tables of the year still empty once the readiness date (5 working days before the collection
-- window opens) has come. The empty tables are counted by the caller ($empty_tables).
select null as _raw_id, 'table' as column_name, format('{}（应于 {} 前就绪）', t, $ready_by) as value
from unnest($empty_tables::varchar[]) as u (t)
where $checked_at::date >= $ready_by::date
