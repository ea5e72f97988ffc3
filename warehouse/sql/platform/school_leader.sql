-- platform.school_leader (院校领导): leaders in post on the stock date, with their HR record.
with posts as (
    select * from core.leader
    where since <= $stock_date and (until is null or until > $stock_date)
),

staff as (
    select * from core.staff
),

final as (
    select
        $academic_year as academic_year,
        p.staff_id,
        s.name,
        core.code_name('gender', s.gender) as gender,
        strftime(s.birth_date, '%Y-%m') as birth_month,
        p.post,
        strftime(p.since, '%Y-%m') as since_month,
        p.duties,
        core.code_name('education', s.education) as education,
        core.code_name('degree', s.degree) as degree,
        core.code_name('title', s.title_code) as title_name,
        list_filter([p._raw_id, s._raw_id], lambda x: x is not null) as _raw_ids
    from posts as p
    left join staff as s on s.staff_id = p.staff_id
)

select * from final
