-- core.class: one row per administrative class (行政班).
with classes as (
    select * from staging.class
),

final as (
    select
        class_id,
        class_name,
        major_id,
        grade,
        dept_code,
        _raw_id
    from classes
    qualify row_number() over (partition by class_id order by _raw_id) = 1
)

select * from final
