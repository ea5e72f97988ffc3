-- Majors reporting more employed plus further-studying graduates than graduates (自主创业 is a kind of
-- 就业, so it is counted within employed and must not exceed it).
select
    null as _raw_id,
    'employed' as column_name,
    format('{} {}（{}）：毕业生 {}，就业 {}（其中创业 {}），升学 {}',
        catalog_code, major_name, cohort, graduates, employed, entrepreneurs, further_study) as value
from platform.graduate_employment
where academic_year = $academic_year
  and (employed + further_study > graduates or entrepreneurs > employed)
