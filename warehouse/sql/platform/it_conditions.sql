-- platform.it_conditions (计算机、教室与校园网): computers in service from the equipment cards, and the
-- classrooms and network figures the information centre fills in its form.
with computers as (
    select * from core.equipment
    where list_contains($computer_class_codes, class_code)
      and acquired_on <= $stock_date and (disposed_on is null or disposed_on > $stock_date)
),

form as (
    select * from staging.forms__it_facility
    where academic_year = $academic_year
),

final as (
    select
        $academic_year as academic_year,
        (select school_code from core.school limit 1) as school_code,
        (select count(*) from computers) as computers_total,
        (select count(*) from computers where use = '教学') as teaching_computers,
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
        list_concat((select list(_raw_id) from computers), list_filter([f._raw_id], lambda x: x is not null)) as _raw_ids
    from (select 1) as one
    left join form as f on true
)

select * from final
