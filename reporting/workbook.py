"""What every workbook statedata writes shares: fixed metadata (the same data give the same bytes) and the
school the year's tables are about."""

from datetime import datetime

import duckdb

FIXED_TIME = datetime(2000, 1, 1)


def school_of(con: duckdb.DuckDBPyConnection, academic_year: str) -> tuple[str, str] | None:
    """(学校标识码, 学校名称) of the year's national tables, or None before they are built."""
    # fetchall, not fetchone: DuckDB 2.0 keeps a half-read result open and refuses the next con.sql()
    rows = con.execute(
        "select school_code, school_name from platform.school_basic where academic_year = ?", [academic_year]
    ).fetchall()
    return rows[0] if rows else None
