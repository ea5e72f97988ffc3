-- platform.graduate_employment (毕业生就业): per major, this year's graduates (应届: graduated in the
-- academic year) and last year's (上届), with their destinations; 就业 and 落实 (毕业去向落实率: every destination
-- but 待就业 and 暂不就业, further study and enlistment included) follow the destination code list's columns.
with cohorts as (
    select '应届' as cohort, year($year_end) as graduation_year
    union all
    select '上届', year($year_end) - 1
),

graduates as (
    select c.cohort, s.*
    from core.student as s
    inner join cohorts as c on year(s.left_on) = c.graduation_year
    where s.status = '04'
),

destinations as (
    select
        g.*,
        core.code_name('graduate_destination.employed', g.destination_code) = '1' as employed,
        core.code_name('graduate_destination.placed', g.destination_code) = '1' as placed
    from core.graduate as g
),

majors as (
    select * from core.major_code
),

lineage as (  -- graduates and the unreported: student rows; destinations: the graduate destination rows
    select
        concat_ws('|', s.cohort, m.catalog_code) as _key,
        unnest(list_filter([
            'graduates',
            case when d.student_id is null then 'not_reported' end
        ], lambda x: x is not null)) as column_name,
        s._raw_id,
        1.0 as amount
    from graduates as s
    inner join majors as m on m.major_id = s.major_id
    left join destinations as d on d.student_id = s.student_id and d.graduation_year = year(s.left_on)
    union all
    select
        concat_ws('|', s.cohort, m.catalog_code),
        unnest(list_filter([
            case when d.employed then 'employed' end,
            case when d.placed then 'placed' end,
            case when d.destination_code = '80' then 'further_study' end,
            case when d.destination_code = '75' then 'entrepreneurs' end
        ], lambda x: x is not null)),
        d._raw_id,
        1.0
    from graduates as s
    inner join majors as m on m.major_id = s.major_id
    inner join destinations as d on d.student_id = s.student_id and d.graduation_year = year(s.left_on)
),

final as (
    select
        $academic_year as academic_year,
        s.cohort,
        m.catalog_code,
        m.major_name,
        count(*) as graduates,
        count(*) filter (where d.employed) as employed,
        count(*) filter (where d.destination_code = '80') as further_study,
        count(*) filter (where d.destination_code = '75') as entrepreneurs,
        count(*) filter (where d.student_id is null) as not_reported,
        round(100.0 * count(*) filter (where d.employed) / count(*), 2) as employment_rate,
        count(*) filter (where d.placed) as placed,
        round(100.0 * count(*) filter (where d.placed) / count(*), 2) as placement_rate,
        list_filter(list_concat(list(s._raw_id order by s._raw_id), list(d._raw_id order by d._raw_id)), lambda x: x is not null) as _raw_ids
    from graduates as s
    inner join majors as m on m.major_id = s.major_id
    left join destinations as d on d.student_id = s.student_id and d.graduation_year = year(s.left_on)
    group by s.cohort, m.catalog_code, m.major_name
)

select * from final
