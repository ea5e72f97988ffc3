-- platform.indicator_input: the figures the core indicators are computed from, one row per input,
-- each read from the national table that publishes it (so the review list matches the tables).
with staff as (
    select t.staff_id, s.degree, s.title_code, s.dual_qualified
    from platform.full_time_teacher as t
    inner join core.staff as s on s.staff_id = t.staff_id
    where t.academic_year = $academic_year
),

school as (
    select * from platform.school_basic where academic_year = $academic_year
),

areas as (
    select * from platform.land_building where academic_year = $academic_year
),

equipment as (
    select * from platform.equipment_assets where academic_year = $academic_year
),

books as (
    select * from platform.library where academic_year = $academic_year
),

it as (
    select * from platform.it_conditions where academic_year = $academic_year
),

inputs (input, value, source) as (
    select 'vocational_students', (select sum(students_enrolled) from school), 'platform.school_basic.students_enrolled'
    union all
    select 'full_time_teachers', (select count(*) from staff), 'platform.full_time_teacher'
    union all
    select 'external_teachers',
        (select count(*) from platform.external_teacher where academic_year = $academic_year),
        'platform.external_teacher'
    union all
    select 'postgraduate_degree_teachers', (select count(*) from staff where left(degree, 1) in ('2', '3')),
        'platform.full_time_teacher.degree'
    union all
    select 'senior_title_teachers',
        (select count(*) from staff where core.code_name('title.level', title_code) in ('正高级', '副高级')),
        'platform.full_time_teacher.title_level'
    union all
    select 'dual_qualified_teachers', (select count(*) from staff where dual_qualified),
        'platform.full_time_teacher.dual_qualified'
    union all
    select 'teaching_research_m2', (select sum(teaching_research_m2) from areas), 'platform.land_building.teaching_research_m2'
    union all
    select 'admin_m2', (select sum(admin_m2) from areas), 'platform.land_building.admin_m2'
    union all
    select 'land_area_m2', (select sum(land_area_m2) from areas), 'platform.land_building.land_area_m2'
    union all
    select 'student_dorm_m2', (select sum(student_dorm_m2) from areas), 'platform.land_building.student_dorm_m2'
    union all
    select 'teaching_equipment_yuan', (select sum(teaching_equipment_10k) * 10000 from equipment),
        'platform.equipment_assets.teaching_equipment_10k'
    union all
    select 'teaching_equipment_added_yuan', (select sum(teaching_equipment_added_10k) * 10000 from equipment),
        'platform.equipment_assets.teaching_equipment_added_10k'
    union all
    select 'books_total', (select sum(books_total) from books), 'platform.library.books_total'
    union all
    select 'books_added', (select sum(books_added) from books), 'platform.library.books_added'
    union all
    select 'teaching_computers', (select sum(teaching_computers) from it), 'platform.it_conditions.teaching_computers'
    union all
    select 'multimedia_and_language_seats', (select sum(multimedia_seats + language_lab_seats) from it),
        'platform.it_conditions.multimedia_seats + language_lab_seats'
),

final as (
    select
        $academic_year as academic_year,
        input,
        cast(value as double) as value,
        source
    from inputs
)

select * from final
