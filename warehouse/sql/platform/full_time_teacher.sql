-- platform.full_time_teacher (校内专任教师基本情况): staff in a full-time teaching post on the stock date.
with staff as (
    select * from core.staff
    where post_type = '专任教师'
      and hired_on <= $stock_date
      and (left_on is null or left_on > $stock_date)
),

units as (
    select * from core.org_unit
),

final as (
    select
        $academic_year as academic_year,
        u.unit_name as dept_name,
        s.staff_id,
        s.name,
        core.code_name('gender', s.gender) as gender,
        strftime(s.birth_date, '%Y-%m') as birth_month,
        core.code_name('ethnicity', s.ethnicity) as ethnicity,
        core.code_name('political_status', s.political_status) as political_status,
        core.code_name('education', s.education) as education,
        core.code_name('degree', s.degree) as degree,
        core.code_name('title.level', s.title_code) as title_level,
        core.code_name('title', s.title_code) as title_name,
        case when s.dual_qualified then '是' else '否' end as dual_qualified,
        strftime(s.work_started_on, '%Y-%m') as work_started_month,
        strftime(s.hired_on, '%Y-%m') as hired_month,
        [s._raw_id] as _raw_ids
    from staff as s
    left join units as u on u.unit_code = s.dept_code
)

select * from final
