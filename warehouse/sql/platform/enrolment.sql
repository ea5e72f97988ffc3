-- platform.enrolment (招生): per major, the admissions office's plan and registration figures for the
-- year's intake, next to the new students the academic system holds, by origin.
with plans as (
    select * from core.enrolment_plan
    where intake_year = year($stock_date)
),

new_students as (
    select s.*, m.catalog_code, m.major_name
    from core.student as s
    inner join core.major_code as m on m.major_id = s.major_id
    where s.grade = year($stock_date) and s.enrolled_on <= $stock_date
),

by_major as (
    select
        catalog_code,
        any_value(major_name) as major_name,
        count(*) as registered_in_system,
        count(*) filter (where origin_type = '普通高中') as from_high_school,
        count(*) filter (where origin_type = '中职') as from_vocational,
        count(*) filter (where origin_type is distinct from '普通高中' and origin_type is distinct from '中职') as from_other,
        list(_raw_id order by _raw_id) as raw_ids
    from new_students
    group by catalog_code
),

lineage as (  -- the year's new students in the academic system (the plan figures are copied from its row)
    select
        catalog_code as _key,
        unnest([
            'registered_in_system',
            case origin_type when '普通高中' then 'from_high_school' when '中职' then 'from_vocational' else 'from_other' end
        ]) as column_name,
        _raw_id,
        1.0 as amount
    from new_students
),

final as (
    select
        $academic_year as academic_year,
        coalesce(p.catalog_code, b.catalog_code) as catalog_code,
        coalesce(b.major_name, p.major_name) as major_name,
        p.planned,
        p.admitted,
        p.registered,
        p.in_province,
        coalesce(b.registered_in_system, 0) as registered_in_system,
        coalesce(b.from_high_school, 0) as from_high_school,
        coalesce(b.from_vocational, 0) as from_vocational,
        coalesce(b.from_other, 0) as from_other,
        list_filter(list_concat([p._raw_id], coalesce(b.raw_ids, [])), lambda x: x is not null) as _raw_ids
    from plans as p
    full outer join by_major as b on b.catalog_code = p.catalog_code
)

select * from final
