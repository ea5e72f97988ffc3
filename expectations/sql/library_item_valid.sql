-- Library items (1.5 million rows at a large college: SQL, about 10x faster than the equivalent GX suite
-- and without a pandas copy) with a missing acquisition date, a material type no translation covers, a
-- date that is not a real date, or a withdrawal before the acquisition.
with items as (
    select
        s._raw_id,
        s.acquired_on,
        s.withdrawn_on,
        s.material_type,
        nullif(trim(r.acquired_on), '') as acquired_text,
        nullif(trim(r.withdrawn_on), '') as withdrawn_text
    from staging.library__item as s
    inner join raw.library__item as r on r._raw_id = s._raw_id
),

types as (
    select target_value from staging.code_translation
    where system = 'library' and entity = 'item' and field = 'material_type'
)

select _raw_id, 'acquired_on' as column_name, acquired_text as value
from items where acquired_on is null
union all
select _raw_id, 'withdrawn_on', withdrawn_text
from items where withdrawn_on is null and withdrawn_text is not null
union all
select _raw_id, 'material_type', material_type
from items where material_type is not null and material_type not in (select target_value from types)
union all
select _raw_id, 'withdrawn_on', format('{} < {}', withdrawn_on, acquired_on)
from items where withdrawn_on < acquired_on
