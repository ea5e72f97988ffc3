-- Printed holdings: last year's reported total + books acquired − books withdrawn between the two stock
-- dates (from the library system now) against this year's reported total. A break means records of
-- earlier years were added, removed or redated since last year's report.
with flow as (
    select
        count(*) filter (where acquired_on > $previous_stock_date and acquired_on <= $stock_date
            and (withdrawn_on is null or withdrawn_on > $stock_date)) as added,
        count(*) filter (where acquired_on <= $previous_stock_date
            and withdrawn_on > $previous_stock_date and withdrawn_on <= $stock_date) as withdrawn
    from core.library_item
    where kind in ('中文图书', '外文图书')
)

select
    null as _raw_id,
    'books_total' as column_name,
    format('去年 {} + 入藏 {} − 注销 {} = {}，今年 {}', l.books_total, f.added, f.withdrawn,
        l.books_total + f.added - f.withdrawn, t.books_total) as value
from platform.library as t
inner join platform.library as l on l.academic_year = $previous_year
cross join flow as f
where t.academic_year = $academic_year
  and l.books_total + f.added - f.withdrawn <> t.books_total
