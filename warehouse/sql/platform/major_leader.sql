-- platform.major_leader (专业带头人 / 专业负责人): the leader and the person in charge of each major,
-- with their HR record; the template has one table per role.
with majors as (
    select *, _raw_ids as raw_ids
    from core.major_code
    where approved_on is null or approved_on <= $stock_date
),

roles as (
    select major_id, catalog_code, major_name, '专业带头人' as role, leader_id as staff_id, raw_ids from majors
    union all
    select major_id, catalog_code, major_name, '专业负责人', head_id, raw_ids from majors
),

staff as (
    select * from core.staff
),

final as (
    select
        $academic_year as academic_year,
        r.role,
        r.catalog_code,
        r.major_name,
        r.staff_id,
        s.name,
        core.code_name('gender', s.gender) as gender,
        strftime(s.birth_date, '%Y-%m') as birth_month,
        core.code_name('education', s.education) as education,
        core.code_name('degree', s.degree) as degree,
        core.code_name('title', s.title_code) as title_name,
        case when s.dual_qualified then '是' else '否' end as dual_qualified,
        list_filter(list_concat(r.raw_ids, [s._raw_id]), lambda x: x is not null) as _raw_ids
    from roles as r
    left join staff as s on s.staff_id = r.staff_id
    where r.staff_id is not null
)

select * from final
