-- Floor and land areas whose parts add up to more than their total (0.01 m² for rounding).
with b as (select * from platform.land_building where academic_year = $academic_year),

parts as (
    select '教学科研及辅助用房' as total_name, teaching_research_m2 as total,
        classroom_m2 + library_m2 + lab_m2 + research_m2 + gym_m2 + hall_m2 as parts
    from b
    union all
    select '生活用房', living_m2,
        student_dorm_m2 + student_canteen_m2 + staff_dorm_m2 + staff_canteen_m2 + welfare_m2
    from b
    union all
    select '学校产权建筑面积', floor_area_total_m2,
        teaching_research_m2 + admin_m2 + living_m2 + staff_housing_m2 + other_m2
    from b
    union all
    select '产权建筑面积', floor_area_total_m2, floor_area_owned_m2 from b
    union all
    select '占地面积', land_area_m2, land_owned_m2 from b
)

select null as _raw_id, total_name as column_name, format('分项合计 {} > 总计 {}', parts, total) as value
from parts
where parts > total + 0.01
