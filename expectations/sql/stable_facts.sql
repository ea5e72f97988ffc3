-- Facts that do not change from one year to the next: the founding date and the land area.
select null as _raw_id, 'founded' as column_name, format('去年 {}，今年 {}', l.founded, t.founded) as value
from platform.school_basic as t
inner join platform.school_basic as l on l.academic_year = $previous_year
where t.academic_year = $academic_year and t.founded is distinct from l.founded
union all
select null, 'land_area_m2', format('去年 {}，今年 {}', l.land_area_m2, t.land_area_m2)
from platform.land_building as t
inner join platform.land_building as l on l.academic_year = $previous_year
where t.academic_year = $academic_year and t.land_area_m2 is distinct from l.land_area_m2
