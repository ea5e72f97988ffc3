-- Majors whose national code is not in the vocational major catalogue.
select distinct m._raw_ids[1] as _raw_id, 'catalog_code' as column_name, m.catalog_code as value
from core.major as m
where m.catalog_code not in (select code from core.national_code where code_table = 'major_catalog')
