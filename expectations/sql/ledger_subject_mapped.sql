-- Voucher lines of the fiscal year whose subject maps to no platform item.
select l._raw_id, 'subject_code' as column_name, l.subject_code as value
from core.ledger_entry as l
where l.fiscal_year = $fiscal_year and (l.direction is null or l.item like '未映射科目%')
