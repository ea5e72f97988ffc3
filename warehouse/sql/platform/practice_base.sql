-- platform.practice_base (实践教学基地): on-campus bases with the equipment booked to them (in service on the
-- stock date, in units; added over the year), and off-campus internship bases with their partner; the template
-- splits them by `location`. An on-campus base serves its department's majors approved by the stock date.
with bases as (
    select * from core.practice_base
    where (established_on is null or established_on <= $year_end)
      and (closed_on is null or closed_on >= $year_start)
),

cards as (
    select *, acquired_on <= $stock_date and (disposed_on is null or disposed_on > $stock_date) as in_service
    from core.equipment
    where base_id is not null and acquired_on <= $year_end
),

equipment as (
    select
        base_id,
        round(sum(value_yuan) filter (where in_service) / 10000, 4) as equipment_10k,
        coalesce(sum(quantity) filter (where in_service), 0)::bigint as equipment_count,
        round(coalesce(sum(value_yuan) filter (where acquired_on between $year_start and $year_end), 0) / 10000, 4)
            as equipment_added_10k,
        list(_raw_id order by _raw_id) as raw_ids
    from cards
    group by base_id
),

majors as (
    select * from core.major_code
),

current_majors as (
    select * from majors
    where approved_on is null or approved_on <= $stock_date
),

served as (
    select dept_code, count(*) as majors_served, string_agg(major_name, '、' order by catalog_code) as major_names
    from current_majors
    group by dept_code
),

units as (
    select * from core.org_unit
),

lineage as (  -- equipment booked to a base; majors served (校内: the department's majors, 校外: its major)
    select concat_ws('|', b.location, b.base_id) as _key, c.column_name, c._raw_id, c.amount
    from bases as b
    inner join (
        select base_id, 'equipment_10k' as column_name, _raw_id, value_yuan / 10000 as amount
        from cards where in_service
        union all
        select base_id, 'equipment_count', _raw_id, quantity from cards where in_service
        union all
        select base_id, 'equipment_added_10k', _raw_id, value_yuan / 10000 from cards
        where acquired_on between $year_start and $year_end
    ) as c on c.base_id = b.base_id
    union all
    select concat_ws('|', b.location, b.base_id), 'majors_served', m._raw_ids[1], 1
    from bases as b
    inner join current_majors as m on b.location = '校内' and m.dept_code = b.dept_code
    union all
    select concat_ws('|', b.location, b.base_id), 'majors_served', m._raw_ids[1], 1
    from bases as b
    inner join majors as m on b.location <> '校内' and m.major_id = b.major_id
),

final as (
    select
        $academic_year as academic_year,
        b.location,
        b.base_id,
        b.base_name,
        coalesce(u.unit_name, mu.unit_name) as dept_name,
        case when b.location = '校内' then s.majors_served else 1 end as majors_served,
        case when b.location = '校内' then s.major_names else m.major_name end as major_names,
        strftime(b.established_on, '%Y-%m') as established_month,
        b.floor_area_m2,
        coalesce(e.equipment_10k, 0) as equipment_10k,
        coalesce(e.equipment_added_10k, 0) as equipment_added_10k,
        coalesce(e.equipment_count, 0) as equipment_count,
        b.workstations,
        b.projects,
        b.partner,
        b.partner_credit_code,
        b.capacity,
        b.lodging,
        list_concat([b._raw_id], coalesce(e.raw_ids, [])) as _raw_ids
    from bases as b
    left join equipment as e on e.base_id = b.base_id
    left join served as s on s.dept_code = b.dept_code
    left join majors as m on m.major_id = b.major_id
    left join units as u on u.unit_code = b.dept_code
    left join units as mu on mu.unit_code = m.dept_code
)

select * from final
