-- Source systems whose latest extraction is older than STATEDATA_MAX_SOURCE_AGE_HOURS (a probe that found the
-- source unchanged counts: the warehouse was then as current as an extraction would have made it).
select
    null as _raw_id,
    'extracted_at' as column_name,
    format('{}：最近一次抽取于 {}', system, strftime(max(finished_at), '%Y-%m-%d %H:%M')) as value
from audit.batch
where status in ('committed', 'unchanged')
group by system
having max(finished_at) < $checked_at::timestamptz - to_hours($max_source_age_hours::bigint)
