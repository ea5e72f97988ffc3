-- core.library_item: library holdings, one row per copy (barcode), and the e-resources (quantity each).
with items as (
    select * from staging.library_item
    qualify row_number() over (partition by barcode order by _raw_id) = 1
),

e_resources as (
    select * from staging.e_resource
    qualify row_number() over (partition by resource_id order by _raw_id) = 1
),

final as (
    select
        barcode as item_id,
        material_type as kind,
        1 as quantity,
        acquired_on,
        withdrawn_on,
        _raw_id
    from items
    union all
    select
        resource_id,
        resource_type,
        quantity,
        make_date(purchase_year, 1, 1),
        null,
        _raw_id
    from e_resources
)

select * from final
