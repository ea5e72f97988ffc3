"""Rebuilding one academic year of a partitioned table, with the cell lineage its SQL declares, in one
transaction."""

import re

import duckdb

from warehouse import lineage, memo
from warehouse.db import ident, params_used, qualified, sql_text


def _column(name: str) -> str:
    """A column name read back from the warehouse (pedigree columns start with _)."""
    if not re.match(r"^_?[a-z][a-z0-9_]*$", name):
        raise ValueError(f"not an allowed column name: {name!r}")
    return name


def _columns(con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation) -> list[tuple[str, str]]:
    return [(c, str(t)) for c, t in zip(relation.columns, relation.types)]


def _follow_schema(con: duckdb.DuckDBPyConnection, layer: str, name: str, sql: str, bound: dict) -> None:
    """A new version of a partitioned table's SQL (a column added, dropped or retyped) replaces the table's
    shape; the other academic years keep their rows, in the columns both shapes share (a new column stays
    empty for them until their partition is materialized again)."""
    target = qualified(layer, name)
    new = _columns(con, con.sql(f"select * from ({sql}) limit 0", params=bound))
    old = _columns(con, con.sql(f"select * from {target} limit 0"))
    if new == old:
        return
    shared = [f'"{_column(c)}"' for c, _ in new if c in dict(old)]
    staged = qualified(layer, f"{name}__reshaped")
    con.execute(f"create or replace table {staged} as select * from ({sql}) limit 0", bound)
    con.execute(f"insert into {staged} by name select {', '.join(shared)} from {target}")
    con.execute(f"drop table {target}")
    con.execute(f"alter table {staged} rename to {ident(name)}")


def rebuild_partition(
    con: duckdb.DuckDBPyConnection,
    layer: str,
    name: str,
    academic_year: str,
    params: dict,
    sql: str | None = None,
    run_id: str = "",
) -> int:
    """Replace one academic year of ``layer.name`` (created on first use), in one transaction; the SQL is
    the table's file unless given (form tables generate theirs). The cell lineage its SQL declares is
    replaced in the same transaction (warehouse/lineage.py)."""
    sql = sql if sql is not None else sql_text(layer, name)
    target = qualified(layer, name)
    bound = params_used(sql, params)
    memo.wrote(layer, name)
    con.execute("begin")
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [layer, name]
        ).fetchone()[0]
        if not exists:
            con.execute(f"create table {target} as {sql} limit 0", bound)
        else:
            _follow_schema(con, layer, name, sql, bound)
        con.execute(f"delete from {target} where academic_year = ?", [academic_year])
        con.execute(f"insert into {target} by name {sql}", bound)
        n = con.execute(f"select count(*) from {target} where academic_year = ?", [academic_year]).fetchone()[0]
        lineage.record(con, name, academic_year, sql, params, run_id)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        memo.forget()
        raise
    return n
