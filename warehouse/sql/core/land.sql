-- core.land: land parcels; the asset system records 亩, the platform wants m² (1 亩 = 10000/15 m²).
with parcels as (
    select * from staging.land
),

final as (
    select
        parcel_id,
        parcel_name,
        area_mu,
        round(area_mu * 10000 / 15, 2) as area_m2,
        ownership,
        acquired_on,
        _raw_id
    from parcels
    qualify row_number() over (partition by parcel_id order by _raw_id) = 1
)

select * from final
