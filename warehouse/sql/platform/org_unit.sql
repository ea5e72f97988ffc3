-- platform.org_unit (机构设置): units in existence on the stock date.
with units as (
    select * from core.org_unit
    where founded_on is null or founded_on <= $stock_date
),

final as (
    select
        $academic_year as academic_year,
        unit_code,
        unit_name,
        unit_kind,
        [_raw_id] as _raw_ids
    from units
)

select * from final
