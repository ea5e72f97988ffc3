-- core.leader: the school's leadership posts (校领导) from the HR system, one row per person × post.
with posts as (
    select * from staging.leader
),

final as (
    select
        staff_id,
        post,
        since,
        until,
        duties,
        _raw_id
    from posts
    qualify row_number() over (partition by staff_id, post order by _raw_id) = 1
)

select * from final
