-- platform.external_teacher: teachers from outside engaged during the academic year, both kinds
-- (校外兼职 and 校外兼课); the template splits them into two national tables by `kind`.
with teachers as (
    select * from core.external_teacher
    where engaged_from <= $year_end
      and (engaged_to is null or engaged_to >= $year_start)
),

units as (
    select * from core.org_unit
),

final as (
    select
        $academic_year as academic_year,
        t.kind,
        u.unit_name as dept_name,
        t.teacher_id,
        t.name,
        core.code_name('gender', t.gender) as gender,
        strftime(t.birth_date, '%Y-%m') as birth_month,
        core.code_name('education', t.education) as education,
        core.code_name('title.level', t.title_code) as title_level,
        core.code_name('title', t.title_code) as title_name,
        t.employer,
        t.job_title,
        strftime(t.engaged_from, '%Y-%m') as engaged_from_month,
        [t._raw_id] as _raw_ids
    from teachers as t
    left join units as u on u.unit_code = t.dept_code
)

select * from final
