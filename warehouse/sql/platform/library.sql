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

-- one row per (source row, figure it adds to): the figures below are sums of these, and so is their lineage
cells as (
    select _raw_id, 1 as amount, case kind when '中文图书' then 'books_chinese' else 'books_foreign' end as column_name
    from held
    union all
    select _raw_id, 1, 'books_added' from printed where acquired_on between $year_start and $year_end
    union all
    select _raw_id, 1, 'books_withdrawn' from printed where withdrawn_on between $year_start and $year_end
    union all
    select _raw_id, coalesce(quantity, 0), 'e_books' from e_resources where kind = '电子图书'
    union all
    select _raw_id, coalesce(quantity, 0), 'e_journals' from e_resources where kind = '电子期刊'
    union all
    select _raw_id, 1, 'databases' from e_resources where kind = '数据库'
),

figures as (
    select
        count(*) filter (where column_name in ('books_chinese', 'books_foreign')) as books_total,
        count(*) filter (where column_name = 'books_chinese') as books_chinese,
        count(*) filter (where column_name = 'books_foreign') as books_foreign,
        count(*) filter (where column_name = 'books_added') as books_added,
        count(*) filter (where column_name = 'books_withdrawn') as books_withdrawn,
        coalesce(sum(amount) filter (where column_name = 'e_books'), 0) as e_books,
        coalesce(sum(amount) filter (where column_name = 'e_journals'), 0) as e_journals,
        count(*) filter (where column_name = 'databases') as databases
    from cells
),

lineage as (  -- books_total is the sum of its two parts: it names them instead of repeating their rows
    select (select school_code from core.school limit 1) as _key, column_name, _raw_id, null as _via,
        amount::double as amount
    from cells
    union all
    select (select school_code from core.school limit 1), 'books_total', null,
        concat_ws('|', 'library', (select school_code from core.school limit 1), part), 1.0
    from (values ('books_chinese'), ('books_foreign')) as p (part)
),

final as (
    select
        $academic_year as academic_year,
        (select school_code from core.school limit 1) as school_code,
        f.*,
        (select list(_raw_id order by _raw_id) from held) as _raw_ids
    from figures as f
)

select * from final
