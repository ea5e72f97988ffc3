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

counts as (
    select
        count(*) as students_enrolled,
        count(distinct major_id) as majors_with_students,
        count(distinct major_id) filter (where grade = year($stock_date)) as majors_enrolling,
        count(*) filter (where grade = year($stock_date)) as new_students,
        count(*) filter (where grade = year($stock_date) and origin_type = '普通高中') as new_from_high_school,
        count(*) filter (where grade = year($stock_date) and origin_type = '中职') as new_from_vocational
    from enrolled
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
        (select count(distinct major_id) from majors) as majors_total,
        c.majors_enrolling,
        c.students_enrolled,
        c.new_students,
        c.new_from_high_school,
        c.new_from_vocational,
        c.new_students - c.new_from_high_school - c.new_from_vocational as new_from_other,
        [s._raw_id] as _raw_ids
    from school as s
    cross join counts as c
)

select * from final
