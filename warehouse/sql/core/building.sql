-- core.building: school buildings (校舍) with the national use category (房屋用途) of each.
with buildings as (
    select * from staging.building
),

final as (
    select
        building_id,
        building_name,
        use,
        case
            when use in ('教室', '图书馆', '实验室、实习场所', '专用科研用房', '体育馆', '会堂') then '教学科研及辅助用房'
            when use = '行政办公用房' then '行政办公用房'
            when use in ('学生宿舍（公寓）', '学生食堂', '教工宿舍（公寓）', '教工食堂', '生活福利及附属用房') then '生活用房'
            when use = '教工住宅' then '教工住宅'
            else '其他用房'
        end as use_group,
        floor_area_m2,
        ownership,
        built_on,
        _raw_id
    from buildings
    qualify row_number() over (partition by building_id order by _raw_id) = 1
)

select * from final
