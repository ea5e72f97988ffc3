-- platform.finance (经费收入 / 经费支出): the calendar year's income and expenditure by the platform's
-- items, in 万元; each direction starts with its total (item_no 0), the items follow by name.
with lines as (
    select
        *,
        case when direction = '支出' then -net_credit else net_credit end as amount
    from core.ledger_entry
    where fiscal_year = $fiscal_year and direction in ('收入', '支出')
),

items as (
    select direction, item, sum(amount) as amount, list(_raw_id order by _raw_id) as raw_ids
    from lines
    group by direction, item
),

-- a subject the finance office's mapping does not know is listed on its own line ('未映射科目 …', flagged by
-- R-JF-001) and kept out of the total: an amount nobody has classified is never added to it silently
totals as (
    select
        direction,
        case direction when '收入' then '学校总收入' else '学校总支出' end as item,
        sum(amount) as amount,
        flatten(list(raw_ids order by raw_ids)) as raw_ids
    from items
    where not starts_with(item, '未映射科目')
    group by direction
),

numbered as (
    select direction, item, row_number() over (partition by direction order by item) as item_no from items
),

-- each voucher line adds its amount (万元) to its item and to its direction's total; the key is
-- direction|item_no, as A5-1 and A5-2 are the two directions of this table
lineage as (
    select concat_ws('|', l.direction, n.item_no) as _key, 'amount_10k' as column_name, l._raw_id,
        (l.amount / 10000)::double as amount
    from lines as l
    inner join numbered as n on n.direction = l.direction and n.item = l.item
    union all
    select concat_ws('|', direction, 0), 'amount_10k', _raw_id, (amount / 10000)::double from lines
    where not starts_with(item, '未映射科目')
),

final as (
    select
        $academic_year as academic_year,
        $fiscal_year as fiscal_year,
        direction,
        0 as item_no,
        item,
        round(amount / 10000, 4) as amount_10k,
        raw_ids as _raw_ids
    from totals
    union all
    select
        $academic_year,
        $fiscal_year,
        direction,
        row_number() over (partition by direction order by item) as item_no,
        item,
        round(amount / 10000, 4),
        raw_ids
    from items
)

select * from final
