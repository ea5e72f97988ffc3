-- platform.major (专业设置): majors × directions approved by the stock date, with students by grade.
with majors as (
    select * from core.major
    where approved_on is null or approved_on <= $stock_date
),

enrolled as (
    select * from core.student
    where enrolled_on <= $stock_date and (left_on is null or left_on > $stock_date)
),

classes as (
    select * from core.class
),

-- one row per counted source row: the figures below are sums of these (and so is their lineage)
cells as (
    select major_id, direction_code, 'students_year1' as column_name, _raw_id, 1 as amount from enrolled
    where grade = year($stock_date)
    union all
    select major_id, direction_code, 'students_year2', _raw_id, 1 from enrolled where grade = year($stock_date) - 1
    union all
    select major_id, direction_code, 'students_year3', _raw_id, 1 from enrolled where grade = year($stock_date) - 2
    union all
    select major_id, direction_code, 'students_total', _raw_id, 1 from enrolled
    union all
    select major_id, direction_code, 'students_from_high_school', _raw_id, 1 from enrolled
    where origin_type = '普通高中'
    union all
    select major_id, direction_code, 'students_from_vocational', _raw_id, 1 from enrolled where origin_type = '中职'
    union all
    -- a class with enrolled students (its class record; a class missing from it, through its first student)
    select e.major_id, e.direction_code, 'classes', coalesce(any_value(c._raw_id), min(e._raw_id)), 1
    from enrolled as e
    left join classes as c on c.class_id = e.class_id
    where e.class_id is not null
    group by e.major_id, e.direction_code, e.class_id
),

by_grade as (
    select
        major_id,
        direction_code,
        sum(amount) filter (where column_name = 'students_year1') as students_year1,
        sum(amount) filter (where column_name = 'students_year2') as students_year2,
        sum(amount) filter (where column_name = 'students_year3') as students_year3,
        sum(amount) filter (where column_name = 'students_total') as students_total,
        sum(amount) filter (where column_name = 'students_from_high_school') as students_from_high_school,
        sum(amount) filter (where column_name = 'students_from_vocational') as students_from_vocational,
        sum(amount) filter (where column_name = 'classes') as classes
    from cells
    group by major_id, direction_code
),

lineage as (
    select concat_ws('|', m.catalog_code, m.direction_code) as _key, c.column_name, c._raw_id, c.amount
    from cells as c
    inner join majors as m on m.major_id = c.major_id and m.direction_code = c.direction_code
),

units as (
    select * from core.org_unit
),

final as (
    select
        $academic_year as academic_year,
        u.unit_name as dept_name,
        m.catalog_code,
        m.major_name,
        m.direction_code,
        m.direction_name,
        strftime(m.approved_on, '%Y-%m') as approved_month,
        strftime(m.first_intake_on, '%Y-%m') as first_intake_month,
        m.years_of_study,
        coalesce(g.students_year1, 0)::bigint as students_year1,
        coalesce(g.students_year2, 0)::bigint as students_year2,
        coalesce(g.students_year3, 0)::bigint as students_year3,
        coalesce(g.students_total, 0)::bigint as students_total,
        coalesce(g.students_from_high_school, 0)::bigint as students_from_high_school,
        coalesce(g.students_from_vocational, 0)::bigint as students_from_vocational,
        coalesce(g.classes, 0)::bigint as classes,
        m._raw_ids
    from majors as m
    left join by_grade as g on g.major_id = m.major_id and g.direction_code = m.direction_code
    left join units as u on u.unit_code = m.dept_code
)

select * from final
