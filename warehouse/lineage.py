"""Cell lineage: which source rows each aggregated cell of a national table counts or sums.

A platform SQL file whose figures are aggregates computes them from one row per contributing source row
(``column_name``, ``_raw_id``, ``amount``) and declares a CTE named ``lineage``: those rows with the
national table's key, ``_key`` (its ``where`` values then its key values, joined by '|':
TableTemplate.lineage_key_sql). The file still ends with ``select * from final``; run with its last line
replaced by ``select * from lineage``, the same file yields the contributing rows of every aggregated cell.
So the figures and their lineage come from one query text, and cannot drift apart.

A lineage row may instead name another cell, ``_via`` = '<table>|<row key>|<column>', whose value it adds
(times ``amount``): an indicator input read from a published table, or a total that is the sum of its
parts, then costs one row instead of a copy of the parts' rows.

Cells copied from one source row (a student's name, a teacher's title) need no lineage rows: the
national row's ``_raw_ids`` names the rows it was built from.
"""

import re

import duckdb

from warehouse.db import params_used

_FINAL = re.compile(r"select\s+\*\s+from\s+final\s*;?\s*$", re.IGNORECASE)
_HAS_LINEAGE = re.compile(r"^\s*lineage\s+as\s*\(", re.IGNORECASE | re.MULTILINE)


def lineage_sql(sql: str) -> str | None:
    """The query of the contributing rows, or None when the file declares no lineage CTE."""
    if not _HAS_LINEAGE.search(sql):
        return None
    if not _FINAL.search(sql):
        raise ValueError("a platform SQL file with a lineage CTE must end with `select * from final`")
    return _FINAL.sub("select * from lineage", sql)


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
        f"create or replace temp table _lineage as {query}",
        params_used(query, params),
    )
    via = "_via" if "_via" in [r[0] for r in con.execute("describe _lineage").fetchall()] else "null"
    con.execute(
        f"""insert into lineage.cell
            select ?, ?, ?, cast(_key as varchar), column_name, _raw_id, {via}, amount
            from _lineage where _raw_id is not null or {via} is not null""",
        [run_id, academic_year, table],
    )
    con.execute("drop table _lineage")
    return con.execute(
        "select count(*) from lineage.cell where table_name = ? and academic_year = ?", [table, academic_year]
    ).fetchall()[0][0]


_WALK = """
    with recursive walk (table_name, row_key, column_name, factor, depth) as (
        select ?::varchar, ?::varchar, ?::varchar, 1.0::double, 0
        union all
        select
            split_part(c.via, '|', 1),
            regexp_extract(c.via, '^[^|]*\\|(.*)\\|[^|]*$', 1),
            regexp_extract(c.via, '\\|([^|]*)$', 1),
            w.factor * c.amount,
            w.depth + 1
        from walk as w
        inner join lineage.cell as c
            on c.academic_year = ? and c.table_name = w.table_name and c.row_key = w.row_key
            and c.column_name = w.column_name
        where c.via is not null and w.depth < 5
    )
    select c._raw_id, c.amount * w.factor as amount
    from walk as w
    inner join lineage.cell as c
        on c.academic_year = ? and c.table_name = w.table_name and c.row_key = w.row_key
        and c.column_name = w.column_name
    where c._raw_id is not null
"""


def resolve(
    con: duckdb.DuckDBPyConnection,
    table: str,
    academic_year: str,
    row_key: str,
    column: str,
    limit: int | None = None,
) -> tuple[int, float, list[tuple[str, float]]]:
    """The source rows of one cell, following the cells named by ``via``: (how many, the sum of their
    amounts, the rows with their amounts, the first ``limit`` of them by raw id, or all)."""
    params = [table, row_key, column, academic_year, academic_year]
    n, total = con.execute(f"select count(*), coalesce(sum(amount), 0) from ({_WALK})", params).fetchall()[0]
    rows = con.execute(
        f"select _raw_id, amount from ({_WALK}) order by _raw_id"
        + (f" limit {int(limit)}" if limit is not None else ""),
        params,
    ).fetchall()
    return n, total, rows
