-- platform.it_conditions (计算机、教室与校园网): computers in service from the equipment cards (a card counts its
-- quantity of machines), and the classrooms and network figures the information centre fills in its form.
with computers as (
    select * from core.equipment
    where list_contains($computer_class_codes, class_code)
      and acquired_on <= $stock_date and (disposed_on is null or disposed_on > $stock_date)
),

form as (
    select * from staging.it_facility
    where academic_year = $academic_year
),

-- computers are counted from their cards (quantity each); the form's figures are copied from its one row (a sum of one)
lineage as (
    select (select school_code from core.school limit 1) as _key, column_name, _raw_id, amount::double as amount
    from (
        select _raw_id, quantity as amount, 'computers_total' as column_name from computers
        union all
        select _raw_id, quantity, 'teaching_computers' from computers where use = '教学'
        union all
        select _raw_id, value, column_name from (
            unpivot (
                select _raw_id, classrooms, multimedia_rooms, multimedia_seats, language_lab_seats, reading_seats,
                    info_points
                from form
            ) on classrooms, multimedia_rooms, multimedia_seats, language_lab_seats, reading_seats, info_points
            into name column_name value value
        )
    )
),

final as (
    select
        $academic_year as academic_year,
        (select school_code from core.school limit 1) as school_code,
        (select coalesce(sum(quantity), 0)::bigint from computers) as computers_total,
        (select coalesce(sum(quantity), 0)::bigint from computers where use = '教学') as teaching_computers,
        f.classrooms,
        f.multimedia_rooms,
        f.multimedia_seats,
        f.language_lab_seats,
        f.reading_seats,
        f.internet_mbps,
        f.backbone_mbps,
        f.info_points,
        f.wireless,
        f.filled_by,
        f.filled_on,
        list_concat((select list(_raw_id order by _raw_id) from computers), list_filter([f._raw_id], lambda x: x is not null)) as _raw_ids
    from (select 1) as one
    left join form as f on true
)

select * from final
