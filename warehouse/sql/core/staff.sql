-- core.staff: one row per staff number (教工号) of the HR system, all post types.
with staff as (
    select * from staging.staff
),

final as (
    select
        staff_id,
        name,
        gender,
        birth_date,
        ethnicity,
        id_card,
        political_status,
        education,
        degree,
        title_code,
        post_type,
        dual_qualified = '1' as dual_qualified,
        dept_code,
        work_started_on,
        hired_on,
        left_on,
        count(*) over (partition by staff_id) as _duplicate_count,
        _raw_id
    from staff
    qualify row_number() over (partition by staff_id order by _raw_id) = 1
)

select * from final
