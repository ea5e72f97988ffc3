-- Core indicators below their 合格 standard (the review list explains each).
select null as _raw_id, name as column_name, format('{} {}（标准 {} {}）', value, unit, compare, pass_threshold) as value
from platform.core_indicator
where academic_year = $academic_year and pass_result = '不合格'
