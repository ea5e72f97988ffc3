-- Library holdings: last year's total + this year's additions − withdrawals = this year's total.
select
    null as _raw_id,
    'books_total' as column_name,
    format('去年 {} + 新增 {} − 注销 {} = {}，今年 {}', l.books_total, t.books_added, t.books_withdrawn,
        l.books_total + t.books_added - t.books_withdrawn, t.books_total) as value
from platform.library as t
inner join platform.library as l on l.academic_year = $previous_year
where t.academic_year = $academic_year
  and l.books_total + t.books_added - t.books_withdrawn <> t.books_total
