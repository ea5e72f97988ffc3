-- core.land: land parcels, area in m² (a mapping converts from 亩 where its system records them).
with parcels as (
    select * from staging.land
),

final as (
    select
        parcel_id,
        parcel_name,
        area_m2,
        ownership,
        acquired_on,
        _raw_id
    from parcels
    qualify row_number() over (partition by parcel_id order by _raw_id) = 1
)

select * from final
