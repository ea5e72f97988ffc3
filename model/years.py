"""Academic years (1 September to 31 August), the unit every national table is collected for."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
FIRST_ACADEMIC_YEAR = 2022  # earliest academic-year partition
YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")


def parse_year(academic_year: str) -> int:
    """'2026-2027' -> 2026, with a clear error for anything else."""
    m = YEAR_RE.match(academic_year or "")
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ValueError(f"academic year {academic_year!r} is not of the form 2026-2027")
    return int(m.group(1))


def academic_year_of(day: date | datetime) -> str:
    """The academic year a day falls in, e.g. 2026-11-23 -> '2026-2027'."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def current_academic_year() -> str:
    return academic_year_of(datetime.now(TZ))


def previous_year(academic_year: str) -> str:
    start = parse_year(academic_year)
    return f"{start - 1}-{start}"


def academic_years() -> list[str]:
    """Partition keys: every academic year from FIRST_ACADEMIC_YEAR to the current one."""
    last = parse_year(current_academic_year())
    return [f"{y}-{y + 1}" for y in range(FIRST_ACADEMIC_YEAR, last + 1)]
