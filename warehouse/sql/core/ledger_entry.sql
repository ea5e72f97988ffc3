-- core.ledger_entry: voucher lines with the platform item each accounting subject maps to, through
-- the finance office's mapping file (longest matching subject prefix wins; unmapped lines stay visible).
with lines as (  -- one version of each voucher line: the first, as for every core entity
    select * from staging.ledger_entry
    qualify row_number() over (partition by voucher_id, line_no order by _raw_id) = 1
),

items as (
    select * from read_csv($finance_items, header = true, all_varchar = true)
),

final as (
    select
        l.voucher_id,
        l.line_no,
        l.fiscal_year,
        l.posted_on,
        l.subject_code,
        l.subject_name,
        coalesce(i.direction, case when l.subject_code like '4%' then '收入' when l.subject_code like '5%' then '支出' end)
            as direction,
        coalesce(i.item, '未映射科目 ' || l.subject_code) as item,
        coalesce(l.credit, 0) - coalesce(l.debit, 0) as net_credit,
        l._raw_id
    from lines as l
    left join items as i on starts_with(l.subject_code, i.subject_prefix)
    qualify row_number() over (partition by l.voucher_id, l.line_no order by length(i.subject_prefix) desc nulls last) = 1
)

select * from final
