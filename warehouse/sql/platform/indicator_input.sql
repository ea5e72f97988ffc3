-- platform.indicator_input: the figures the core indicators are computed from, one row per input,
-- each read from the national table that publishes it (so the review list matches the tables).
with teachers as (
    select s.degree, s.title_code, s.dual_qualified, t._raw_ids[1] as _raw_id
    from platform.full_time_teacher as t
    inner join core.staff as s on s.staff_id = t.staff_id
    where t.academic_year = $academic_year
),

school as (select * from platform.school_basic where academic_year = $academic_year),
areas as (select * from platform.land_building where academic_year = $academic_year),
equipment as (select * from platform.equipment_assets where academic_year = $academic_year),
books as (select * from platform.library where academic_year = $academic_year),
it as (select * from platform.it_conditions where academic_year = $academic_year),
external as (select * from platform.external_teacher where academic_year = $academic_year),

figures as (
    select
        (select sum(students_enrolled) from school) as vocational_students,
        (select count(*) from teachers) as full_time_teachers,
        (select count(*) from external) as external_teachers,
        (select count(*) from teachers where left(degree, 1) in ('2', '3')) as postgraduate_degree_teachers,
        (select count(*) from teachers where core.code_name('title.level', title_code) in ('正高级', '副高级'))
            as senior_title_teachers,
        (select count(*) from teachers where dual_qualified) as dual_qualified_teachers,
        (select sum(teaching_research_m2) from areas) as teaching_research_m2,
        (select sum(admin_m2) from areas) as admin_m2,
        (select sum(land_area_m2) from areas) as land_area_m2,
        (select sum(student_dorm_m2) from areas) as student_dorm_m2,
        (select sum(teaching_equipment_10k) * 10000 from equipment) as teaching_equipment_yuan,
        (select sum(teaching_equipment_added_10k) * 10000 from equipment) as teaching_equipment_added_yuan,
        (select sum(books_total) from books) as books_total,
        (select sum(books_added) from books) as books_added,
        (select sum(teaching_computers) from it) as teaching_computers,
        (select sum(multimedia_seats + language_lab_seats) from it) as multimedia_and_language_seats
),

sources (input, source) as (
    values
        ('vocational_students', 'platform.school_basic.students_enrolled'),
        ('full_time_teachers', 'platform.full_time_teacher'),
        ('external_teachers', 'platform.external_teacher'),
        ('postgraduate_degree_teachers', 'platform.full_time_teacher.degree'),
        ('senior_title_teachers', 'platform.full_time_teacher.title_level'),
        ('dual_qualified_teachers', 'platform.full_time_teacher.dual_qualified'),
        ('teaching_research_m2', 'platform.land_building.teaching_research_m2'),
        ('admin_m2', 'platform.land_building.admin_m2'),
        ('land_area_m2', 'platform.land_building.land_area_m2'),
        ('student_dorm_m2', 'platform.land_building.student_dorm_m2'),
        ('teaching_equipment_yuan', 'platform.equipment_assets.teaching_equipment_10k'),
        ('teaching_equipment_added_yuan', 'platform.equipment_assets.teaching_equipment_added_10k'),
        ('books_total', 'platform.library.books_total'),
        ('books_added', 'platform.library.books_added'),
        ('teaching_computers', 'platform.it_conditions.teaching_computers'),
        ('multimedia_and_language_seats', 'platform.it_conditions.multimedia_seats + language_lab_seats')
),

published (input, table_name, column_name, factor) as (
    values
        ('vocational_students', 'school_basic', 'students_enrolled', 1),
        ('teaching_research_m2', 'land_building', 'teaching_research_m2', 1),
        ('admin_m2', 'land_building', 'admin_m2', 1),
        ('land_area_m2', 'land_building', 'land_area_m2', 1),
        ('student_dorm_m2', 'land_building', 'student_dorm_m2', 1),
        ('teaching_equipment_yuan', 'equipment_assets', 'teaching_equipment_10k', 10000),
        ('teaching_equipment_added_yuan', 'equipment_assets', 'teaching_equipment_added_10k', 10000),
        ('books_total', 'library', 'books_total', 1),
        ('books_added', 'library', 'books_added', 1),
        ('teaching_computers', 'it_conditions', 'teaching_computers', 1),
        ('multimedia_and_language_seats', 'it_conditions', 'multimedia_seats', 1),
        ('multimedia_and_language_seats', 'it_conditions', 'language_lab_seats', 1)
),

-- an input read from a published cell adds that cell (its lineage is the cell's); a count of teachers, their rows
lineage as (
    select p.input as _key, 'value' as column_name, null as _raw_id,
        concat_ws('|', p.table_name, (select school_code from core.school limit 1), p.column_name) as _via,
        p.factor::double as amount
    from published as p
    union all
    select 'full_time_teachers', 'value', _raw_id, null, 1.0 from teachers
    union all
    select 'external_teachers', 'value', _raw_ids[1], null, 1.0 from external
    union all
    select 'postgraduate_degree_teachers', 'value', _raw_id, null, 1.0 from teachers where left(degree, 1) in ('2', '3')
    union all
    select 'senior_title_teachers', 'value', _raw_id, null, 1.0 from teachers
    where core.code_name('title.level', title_code) in ('正高级', '副高级')
    union all
    select 'dual_qualified_teachers', 'value', _raw_id, null, 1.0 from teachers where dual_qualified
),

final as (
    select
        $academic_year as academic_year,
        f.input,
        f.value,
        s.source
    from (
        unpivot (select columns(*)::double from figures) on columns(*) into name input value value
    ) as f
    left join sources as s on s.input = f.input
)

select * from final
