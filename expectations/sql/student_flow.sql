-- Per major: last year's reported students + this year's new students who stayed − students who left
-- (graduated, dropped out, transferred) against this year's reported students. A student who changed
-- major moves one count between two majors, so a difference of up to 2 students or 5 % passes.
with this_year as (
    select catalog_code, sum(students_total) as students
    from platform.major where academic_year = $academic_year group by all
),

last_year as (
    select catalog_code, sum(students_total) as students
    from platform.major where academic_year = $previous_year group by all
),

flow as (
    select
        m.catalog_code,
        count(*) filter (
            where s.enrolled_on > $previous_stock_date and s.enrolled_on <= $stock_date
            and (s.left_on is null or s.left_on > $stock_date)
        ) as arrived,
        count(*) filter (
            where s.enrolled_on <= $previous_stock_date
            and s.left_on > $previous_stock_date and s.left_on <= $stock_date
        ) as departed
    from core.student as s
    inner join core.major_code as m on s.major_id = m.major_id
    group by all
)

select
    null as _raw_id,
    'students_total' as column_name,
    format('{}：去年 {} + 新生 {} − 离校 {} = {}，今年 {}', t.catalog_code, l.students,
        coalesce(f.arrived, 0), coalesce(f.departed, 0),
        l.students + coalesce(f.arrived, 0) - coalesce(f.departed, 0), t.students) as value
from this_year as t
inner join last_year as l on t.catalog_code = l.catalog_code
left join flow as f on t.catalog_code = f.catalog_code
where abs(l.students + coalesce(f.arrived, 0) - coalesce(f.departed, 0) - t.students)
    > greatest(2, 0.05 * l.students)
