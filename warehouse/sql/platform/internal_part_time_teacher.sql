-- platform.internal_part_time_teacher (校内兼课人员基本情况): staff not in a full-time teaching post
-- who teach at least one task in the academic year.
with staff as (
    select * from core.staff
    where post_type is distinct from '专任教师'
      and hired_on <= $stock_date
      and (left_on is null or left_on > $stock_date)
),

tasks as (
    select teacher_id, sum(hours) as hours, list(_raw_id order by _raw_id) as task_raw_ids
    from core.teaching_task
    where academic_year = $academic_year
    group by teacher_id
),

units as (
    select * from core.org_unit
),

lineage as (  -- teaching hours: the year's tasks of the teacher
    select s.staff_id as _key, 'teaching_hours' as column_name, k._raw_id, k.hours::double as amount
    from staff as s
    inner join core.teaching_task as k on k.teacher_id = s.staff_id
    where k.academic_year = $academic_year and k.hours is not null
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
        strftime(s.work_started_on, '%Y-%m') as work_started_month,
        core.code_name('education', s.education) as education,
        core.code_name('degree', s.degree) as degree,
        core.code_name('title.level', s.title_code) as title_level,
        core.code_name('title', s.title_code) as title_name,
        s.post_type,
        t.hours as teaching_hours,
        list_concat([s._raw_id], t.task_raw_ids) as _raw_ids
    from staff as s
    inner join tasks as t on t.teacher_id = s.staff_id
    left join units as u on u.unit_code = s.dept_code
)

select * from final
