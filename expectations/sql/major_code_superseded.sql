-- Major codes of the 2015 catalogue still held at the source. The national tables already carry the 2021
-- successor (major_catalog_crosswalk.csv); the source should too.
with crosswalk as (
    select code, name from core.national_code where code_table = 'major_catalog_crosswalk.successor'
)

select m._raw_id, 'catalog_code' as column_name, format('{} → {}', m.catalog_code, c.name) as value
from staging.major as m
inner join crosswalk as c on c.code = m.catalog_code
union all
select p._raw_id, 'catalog_code', format('{} → {}', p.catalog_code, c.name)
from staging.enrolment_plan as p
inner join crosswalk as c on c.code = p.catalog_code
