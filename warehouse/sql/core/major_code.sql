-- core.major_code: one row per school major (major_id, directions folded) with its national code,
-- name, department and the leader and person in charge named by the academic system.
with majors as (
    select * from core.major
),

final as (
    select
        major_id,
        any_value(catalog_code) as catalog_code,
        any_value(major_name) as major_name,
        any_value(dept_code) as dept_code,
        any_value(approved_on) as approved_on,
        any_value(leader_id) as leader_id,
        any_value(head_id) as head_id,
        -- every value here is the major row's: name it alone, not one of its directions' rows
        [any_value(_raw_ids[1])] as _raw_ids  -- core.major lists the major's row first
    from majors
    group by major_id
)

select * from final
