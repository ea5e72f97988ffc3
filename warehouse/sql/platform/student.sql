-- platform.student (在校生信息): students enrolled on the stock date.
with enrolled as (
    select * from core.student
    where enrolled_on <= $stock_date and (left_on is null or left_on > $stock_date)
),

majors as (
    select * from core.major
),

classes as (
    select * from core.class
),

units as (
    select * from core.org_unit
),

final as (
    select
        $academic_year as academic_year,
        s.student_id,
        s.name,
        core.code_name('gender', s.gender) as gender,
        core.code_name('ethnicity', s.ethnicity) as ethnicity,
        strftime(s.birth_date, '%Y-%m-%d') as birth_date,
        s.origin_region,
        s.admission_mode,
        s.origin_type,
        case when s.rural_hukou then '是' else '否' end as rural_hukou,
        s.grade,
        s.grade = year($stock_date) as is_new,
        s.years_of_study,
        strftime(s.enrolled_on, '%Y-%m') as enrolled_month,
        u.unit_name as dept_name,
        s.class_id,
        c.class_name,
        m.catalog_code,
        m.major_name,
        nullif(s.direction_code, '') as direction_code,
        m.direction_name,
        core.code_name('student_status', s.status) as status,
        [s._raw_id] as _raw_ids
    from enrolled as s
    left join majors as m on m.major_id = s.major_id and m.direction_code = s.direction_code
    left join classes as c on c.class_id = s.class_id
    left join units as u on u.unit_code = coalesce(m.dept_code, c.dept_code)
)

select * from final
