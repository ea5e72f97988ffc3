-- platform.library (图书): printed holdings on the stock date, the year's additions and withdrawals,
-- and the e-resources bought up to the year.
with printed as (
    select * from core.library_item
    where kind in ('中文图书', '外文图书')
),

e_resources as (
    select * from core.library_item
    where kind not in ('中文图书', '外文图书') and year(acquired_on) <= year($year_end)
),

held as (
    select * from printed
    where acquired_on <= $stock_date and (withdrawn_on is null or withdrawn_on > $stock_date)
),

final as (
    select
        $academic_year as academic_year,
        (select school_code from core.school limit 1) as school_code,
        (select count(*) from held) as books_total,
        (select count(*) from held where kind = '中文图书') as books_chinese,
        (select count(*) from held where kind = '外文图书') as books_foreign,
        (select count(*) from printed where acquired_on between $year_start and $year_end) as books_added,
        (select count(*) from printed where withdrawn_on between $year_start and $year_end) as books_withdrawn,
        (select coalesce(sum(quantity), 0) from e_resources where kind = '电子图书') as e_books,
        (select coalesce(sum(quantity), 0) from e_resources where kind = '电子期刊') as e_journals,
        (select count(*) from e_resources where kind = '数据库') as databases,
        (select list(_raw_id) from held) as _raw_ids
)

select * from final
