-- platform.major (专业设置): majors × directions approved by the stock date, with students by grade.
with majors as (
    select * from core.major
    where approved_on is null or approved_on <= $stock_date
),

enrolled as (
    select * from core.student
    where enrolled_on <= $stock_date and (left_on is null or left_on > $stock_date)
),

by_grade as (
    select
        major_id,
        direction_code,
        count(*) filter (where grade = year($stock_date)) as students_year1,
        count(*) filter (where grade = year($stock_date) - 1) as students_year2,
        count(*) filter (where grade = year($stock_date) - 2) as students_year3,
        count(*) as students_total,
        count(*) filter (where origin_type = '普通高中') as students_from_high_school,
        count(*) filter (where origin_type = '中职') as students_from_vocational,
        count(distinct class_id) as classes
    from enrolled
    group by major_id, direction_code
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
        coalesce(g.students_year1, 0) as students_year1,
        coalesce(g.students_year2, 0) as students_year2,
        coalesce(g.students_year3, 0) as students_year3,
        coalesce(g.students_total, 0) as students_total,
        coalesce(g.students_from_high_school, 0) as students_from_high_school,
        coalesce(g.students_from_vocational, 0) as students_from_vocational,
        coalesce(g.classes, 0) as classes,
        m._raw_ids
    from majors as m
    left join by_grade as g on g.major_id = m.major_id and g.direction_code = m.direction_code
    left join units as u on u.unit_code = m.dept_code
)

select * from final
