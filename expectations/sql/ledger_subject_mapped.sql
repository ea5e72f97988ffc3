-- Voucher lines of the fiscal year that should count as income or expense but map to no platform item:
-- their subject is an income or expense subject (its first level's category in the national list), or one
-- the national list does not know. Lines of asset, liability and net-asset subjects are not income or
-- expense (a double-entry ledger balances every income line with one): they are not reported.
select l._raw_id, 'subject_code' as column_name, l.subject_code as value
from core.ledger_entry as l
left join core.national_code as c
    on c.code_table = 'accounting_subject.category' and c.code = left(l.subject_code, 4)
where l.fiscal_year = $fiscal_year
    and starts_with(l.item, '未映射科目')
    and coalesce(c.name, '') not in ('资产', '负债', '净资产', '预算结余')
