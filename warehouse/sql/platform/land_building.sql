-- platform.land_building (占地面积与建筑面积): land (m², converted from 亩) and floor area by use on
-- the stock date; 当年新增校舍 is the floor area of buildings completed during the academic year.
with land as (
    select * from core.land
    where acquired_on is null or acquired_on <= $stock_date
),

buildings as (
    select * from core.building
    where built_on is null or built_on <= $stock_date
),

new_buildings as (
    select * from core.building
    where built_on between $year_start and $year_end
),

land_totals as (
    select
        coalesce(sum(area_m2), 0) as land_area_m2,
        coalesce(sum(area_m2) filter (where ownership = '学校产权'), 0) as land_owned_m2,
        list(_raw_id) as raw_ids
    from land
),

new_totals as (
    select coalesce(sum(floor_area_m2), 0) as floor_area_new_m2, list(_raw_id) as raw_ids
    from new_buildings
),

floor as (
    select
        coalesce(sum(floor_area_m2), 0) as floor_area_total_m2,
        coalesce(sum(floor_area_m2) filter (where ownership = '学校产权'), 0) as floor_area_owned_m2,
        coalesce(sum(floor_area_m2) filter (where ownership is distinct from '学校产权'), 0) as floor_area_not_owned_m2,
        coalesce(sum(floor_area_m2) filter (where use_group = '教学科研及辅助用房'), 0) as teaching_research_m2,
        coalesce(sum(floor_area_m2) filter (where use = '教室'), 0) as classroom_m2,
        coalesce(sum(floor_area_m2) filter (where use = '图书馆'), 0) as library_m2,
        coalesce(sum(floor_area_m2) filter (where use = '实验室、实习场所'), 0) as lab_m2,
        coalesce(sum(floor_area_m2) filter (where use = '专用科研用房'), 0) as research_m2,
        coalesce(sum(floor_area_m2) filter (where use = '体育馆'), 0) as gym_m2,
        coalesce(sum(floor_area_m2) filter (where use = '会堂'), 0) as hall_m2,
        coalesce(sum(floor_area_m2) filter (where use_group = '行政办公用房'), 0) as admin_m2,
        coalesce(sum(floor_area_m2) filter (where use_group = '生活用房'), 0) as living_m2,
        coalesce(sum(floor_area_m2) filter (where use = '学生宿舍（公寓）'), 0) as student_dorm_m2,
        coalesce(sum(floor_area_m2) filter (where use = '学生食堂'), 0) as student_canteen_m2,
        coalesce(sum(floor_area_m2) filter (where use = '教工宿舍（公寓）'), 0) as staff_dorm_m2,
        coalesce(sum(floor_area_m2) filter (where use = '教工食堂'), 0) as staff_canteen_m2,
        coalesce(sum(floor_area_m2) filter (where use = '生活福利及附属用房'), 0) as welfare_m2,
        coalesce(sum(floor_area_m2) filter (where use_group = '教工住宅'), 0) as staff_housing_m2,
        coalesce(sum(floor_area_m2) filter (where use_group = '其他用房'), 0) as other_m2,
        list(_raw_id) as raw_ids
    from buildings
),

final as (
    select
        $academic_year as academic_year,
        (select school_code from core.school limit 1) as school_code,
        l.land_area_m2,
        l.land_owned_m2,
        f.* exclude (raw_ids),
        n.floor_area_new_m2,
        list_concat(l.raw_ids, f.raw_ids, n.raw_ids) as _raw_ids
    from land_totals as l, floor as f, new_totals as n
)

select * from final
