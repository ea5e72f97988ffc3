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

-- one row per (source row, figure it adds to): the figures below are sums of these, and so is their lineage
land_cells as (
    select _raw_id, area_m2 as amount, unnest(list_filter(
        ['land_area_m2', case when ownership = '学校产权' then 'land_owned_m2' end], lambda x: x is not null
    )) as column_name
    from land
),

floor_cells as (
    select _raw_id, floor_area_m2 as amount, unnest(list_filter([
        'floor_area_total_m2',
        case when ownership = '学校产权' then 'floor_area_owned_m2' else 'floor_area_not_owned_m2' end,
        case use_group
            when '教学科研及辅助用房' then 'teaching_research_m2'
            when '行政办公用房' then 'admin_m2'
            when '生活用房' then 'living_m2'
            when '教工住宅' then 'staff_housing_m2'
            when '其他用房' then 'other_m2'
        end,
        case use
            when '教室' then 'classroom_m2'
            when '图书馆' then 'library_m2'
            when '实验室、实习场所' then 'lab_m2'
            when '专用科研用房' then 'research_m2'
            when '体育馆' then 'gym_m2'
            when '会堂' then 'hall_m2'
            when '学生宿舍（公寓）' then 'student_dorm_m2'
            when '学生食堂' then 'student_canteen_m2'
            when '教工宿舍（公寓）' then 'staff_dorm_m2'
            when '教工食堂' then 'staff_canteen_m2'
            when '生活福利及附属用房' then 'welfare_m2'
        end
    ], lambda x: x is not null)) as column_name
    from buildings
    union all
    select _raw_id, floor_area_m2, 'floor_area_new_m2' from new_buildings
),

land_totals as (
    select
        coalesce(sum(amount) filter (where column_name = 'land_area_m2'), 0) as land_area_m2,
        coalesce(sum(amount) filter (where column_name = 'land_owned_m2'), 0) as land_owned_m2,
        (select list(_raw_id order by _raw_id) from land) as raw_ids
    from land_cells
),

floor as (
    select
        coalesce(sum(amount) filter (where column_name = 'floor_area_total_m2'), 0) as floor_area_total_m2,
        coalesce(sum(amount) filter (where column_name = 'floor_area_owned_m2'), 0) as floor_area_owned_m2,
        coalesce(sum(amount) filter (where column_name = 'floor_area_not_owned_m2'), 0) as floor_area_not_owned_m2,
        coalesce(sum(amount) filter (where column_name = 'teaching_research_m2'), 0) as teaching_research_m2,
        coalesce(sum(amount) filter (where column_name = 'classroom_m2'), 0) as classroom_m2,
        coalesce(sum(amount) filter (where column_name = 'library_m2'), 0) as library_m2,
        coalesce(sum(amount) filter (where column_name = 'lab_m2'), 0) as lab_m2,
        coalesce(sum(amount) filter (where column_name = 'research_m2'), 0) as research_m2,
        coalesce(sum(amount) filter (where column_name = 'gym_m2'), 0) as gym_m2,
        coalesce(sum(amount) filter (where column_name = 'hall_m2'), 0) as hall_m2,
        coalesce(sum(amount) filter (where column_name = 'admin_m2'), 0) as admin_m2,
        coalesce(sum(amount) filter (where column_name = 'living_m2'), 0) as living_m2,
        coalesce(sum(amount) filter (where column_name = 'student_dorm_m2'), 0) as student_dorm_m2,
        coalesce(sum(amount) filter (where column_name = 'student_canteen_m2'), 0) as student_canteen_m2,
        coalesce(sum(amount) filter (where column_name = 'staff_dorm_m2'), 0) as staff_dorm_m2,
        coalesce(sum(amount) filter (where column_name = 'staff_canteen_m2'), 0) as staff_canteen_m2,
        coalesce(sum(amount) filter (where column_name = 'welfare_m2'), 0) as welfare_m2,
        coalesce(sum(amount) filter (where column_name = 'staff_housing_m2'), 0) as staff_housing_m2,
        coalesce(sum(amount) filter (where column_name = 'other_m2'), 0) as other_m2,
        (select list(_raw_id order by _raw_id) from buildings) as raw_ids
    from floor_cells
),

new_totals as (
    select
        coalesce(sum(amount) filter (where column_name = 'floor_area_new_m2'), 0) as floor_area_new_m2,
        (select list(_raw_id order by _raw_id) from new_buildings) as raw_ids
    from floor_cells
),

lineage as (
    select (select school_code from core.school limit 1) as _key, column_name, _raw_id, amount::double as amount
    from (select * from land_cells union all select * from floor_cells)
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
