"""Cell lineage: which source rows each aggregated cell of a national table counts or sums.

A platform SQL file whose figures are aggregates computes them from one row per contributing source row
(``column_name``, ``_raw_id``, ``amount``) and declares a CTE named ``lineage``: those rows with the
national table's key, ``_key`` (its ``where`` values then its key values, joined by '|': key_sql). The file still ends
with ``select * from final``; run with its last line replaced by ``select * from lineage``, the same file
yields the contributing rows of every aggregated cell. So the figures and their lineage come from one
query text, and cannot drift apart.

Cells copied from one source row (a student's name, a teacher's title) need no lineage rows: the
national row's ``_raw_ids`` names the rows it was built from.
"""

import re

import duckdb

from warehouse.db import params_used, quote
from warehouse.templates import TableTemplate

_FINAL = re.compile(r"select\s+\*\s+from\s+final\s*;?\s*$", re.IGNORECASE)
_HAS_LINEAGE = re.compile(r"^\s*lineage\s+as\s*\(", re.IGNORECASE | re.MULTILINE)


def key_sql(t: TableTemplate) -> str:
    """The lineage key of a national table's rows: its ``where`` columns (a platform table shared by two
    templates, e.g. finance's 收入 and 支出), then its key columns, joined by '|'."""
    return f"concat_ws('|', {', '.join(quote(c) for c in [k for k, _ in t.where] + list(t.key))})"


def lineage_key(t: TableTemplate, row_key: str) -> str:
    """The lineage key of the row whose key values (joined by '|') are ``row_key``."""
    return "|".join([v for _, v in t.where] + [row_key])


def lineage_sql(sql: str) -> str | None:
    """The query of the contributing rows, or None when the file declares no lineage CTE."""
    if not _HAS_LINEAGE.search(sql):
        return None
    if not _FINAL.search(sql):
        raise ValueError("a platform SQL file with a lineage CTE must end with `select * from final`")
    return _FINAL.sub("select _key, column_name, _raw_id, amount from lineage", sql)


def record(
    con: duckdb.DuckDBPyConnection, table: str, academic_year: str, sql: str, params: dict, run_id: str
) -> int | None:
    """Replace the lineage of one table and academic year (inside the caller's transaction).
    Returns the number of contributing rows, or None for a table without lineage."""
    query = lineage_sql(sql)
    if query is None:
        return None
    con.execute("delete from lineage.cell where table_name = ? and academic_year = ?", [table, academic_year])
    con.execute(
        f"""insert into lineage.cell
            select $lineage_run, $lineage_year, $lineage_table, cast(_key as varchar), column_name, _raw_id, amount
            from ({query}) where _raw_id is not null""",
        params_used(query, params) | {"lineage_run": run_id, "lineage_year": academic_year, "lineage_table": table},
    )
    return con.execute(
        "select count(*) from lineage.cell where table_name = ? and academic_year = ?", [table, academic_year]
    ).fetchall()[0][0]
