-- platform.school_basic (院校基本信息): the school profile and its counts for one academic year.
with school as (
    select * from core.school
),

enrolled as (
    select * from core.student
    where enrolled_on <= $stock_date and (left_on is null or left_on > $stock_date)
),

majors as (
    select * from core.major
),

-- one row per counted source row: the figures below are sums of these (and so is their lineage)
cells as (
    select 'students_enrolled' as column_name, _raw_id, 1 as amount from enrolled
    union all
    select 'new_students', _raw_id, 1 from enrolled where grade = year($stock_date)
    union all
    select 'new_from_high_school', _raw_id, 1 from enrolled
    where grade = year($stock_date) and origin_type = '普通高中'
    union all
    select 'new_from_vocational', _raw_id, 1 from enrolled
    where grade = year($stock_date) and origin_type = '中职'
    union all
    select 'new_from_other', _raw_id, 1 from enrolled
    where grade = year($stock_date) and origin_type is distinct from '普通高中' and origin_type is distinct from '中职'
    union all
    -- majors approved by the stock date, as A2 专业设置 lists them
    select 'majors_total', any_value(_raw_ids[1]), 1 from majors
    where approved_on is null or approved_on <= $stock_date
    group by major_id
    union all
    -- a major with new students; one not in the major table is counted too, through its first student
    select 'majors_enrolling', coalesce(any_value(m._raw_ids[1]), min(e._raw_id)), 1
    from enrolled as e
    left join majors as m on m.major_id = e.major_id
    where e.grade = year($stock_date)
    group by e.major_id
),

counts as (
    select
        coalesce(sum(amount) filter (where column_name = 'students_enrolled'), 0) as students_enrolled,
        coalesce(sum(amount) filter (where column_name = 'majors_total'), 0) as majors_total,
        coalesce(sum(amount) filter (where column_name = 'majors_enrolling'), 0) as majors_enrolling,
        coalesce(sum(amount) filter (where column_name = 'new_students'), 0) as new_students,
        coalesce(sum(amount) filter (where column_name = 'new_from_high_school'), 0) as new_from_high_school,
        coalesce(sum(amount) filter (where column_name = 'new_from_vocational'), 0) as new_from_vocational,
        coalesce(sum(amount) filter (where column_name = 'new_from_other'), 0) as new_from_other
    from cells
),

lineage as (
    select s.school_code as _key, c.column_name, c._raw_id, c.amount
    from cells as c
    cross join school as s
),

final as (
    select
        $academic_year as academic_year,
        s.school_code,
        s.school_name,
        s.province,
        s.city,
        s.founded,
        s.sponsor_name,
        s.sponsor_nature,
        s.sponsor_level,
        s.school_category,
        s.motto,
        s.address,
        s.postcode,
        s.website,
        s.contact_person,
        s.contact_phone,
        c.majors_total::bigint as majors_total,
        c.majors_enrolling::bigint as majors_enrolling,
        c.students_enrolled::bigint as students_enrolled,
        c.new_students::bigint as new_students,
        c.new_from_high_school::bigint as new_from_high_school,
        c.new_from_vocational::bigint as new_from_vocational,
        c.new_from_other::bigint as new_from_other,
        [s._raw_id] as _raw_ids
    from school as s
    cross join counts as c
)

select * from final
