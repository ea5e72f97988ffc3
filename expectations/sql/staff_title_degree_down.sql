-- Full-time teachers whose title level or degree is lower than last year's report.
with ranked as (
    select
        academic_year,
        staff_id,
        title_level,
        degree,
        _raw_ids,
        case title_level when '正高级' then 4 when '副高级' then 3 when '中级' then 2 when '初级' then 1 else 0 end
            as title_rank,
        case degree when '博士' then 3 when '硕士' then 2 when '学士' then 1 else 0 end as degree_rank
    from platform.full_time_teacher
    where academic_year in ($academic_year, $previous_year)
)

select t._raw_ids[1] as _raw_id, 'title_level' as column_name,
    format('{}：去年 {}，今年 {}', t.staff_id, l.title_level, coalesce(t.title_level, '无')) as value
from ranked as t
inner join ranked as l on t.staff_id = l.staff_id and l.academic_year = $previous_year
where t.academic_year = $academic_year and t.title_rank < l.title_rank
union all
select t._raw_ids[1], 'degree', format('{}：去年 {}，今年 {}', t.staff_id, l.degree, coalesce(t.degree, '无'))
from ranked as t
inner join ranked as l on t.staff_id = l.staff_id and l.academic_year = $previous_year
where t.academic_year = $academic_year and t.degree_rank < l.degree_rank
