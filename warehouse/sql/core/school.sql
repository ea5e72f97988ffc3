-- core.school: the school profile sent by the president's office (one row).
with profile as (
    select * from staging.school_profile
),

final as (
    select
        school_code,
        school_name,
        province,
        city,
        founded,
        sponsor_name,
        sponsor_nature,
        sponsor_level,
        school_category,
        motto,
        address,
        postcode,
        website,
        contact_person,
        contact_phone,
        _raw_id
    from profile
    qualify row_number() over (partition by school_code order by _raw_id) = 1
)

select * from final
