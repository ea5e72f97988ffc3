"""What each core table and each academic year of a platform table was built from: one whose inputs are unchanged
is kept, not built again.

A build's key is its SQL text, the parameters it binds and the content of every table it reads (row count and
the sum of a hash of every row, as warehouse/fingerprint.py). The ledger, ``audit.build``, keeps per table and
academic year the key of its last build and the content that build left. A build may be kept when its key is
the same and the table still holds that content: nothing wrote it since, by hand or by a run that stopped.

Whether a run may keep anything at all is its caller's decision (warehouse/inputs.py ``reusable``): only when
statedata's code, the college folder and the settings are as at the last recorded run, because they shape a
build in ways the key does not see (the national code lists, the Python around the SQL).
"""

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from warehouse import memo
from warehouse.db import params_used, qualified

WHOLE = ""  # the academic year of a table that is not partitioned by year


def content(con: duckdb.DuckDBPyConnection, layer: str, name: str, *academic_years: str) -> str:
    """A table's content (the rows of the given academic years, or all), order-free: its row count and the sum of a
    hash of every row; 'absent' when there is no such table. Served from what is known (warehouse/memo.py) while
    nothing wrote the table since it was measured."""
    years = tuple(y for y in academic_years if y != WHOLE)
    held = memo.held_for()
    holding = bool(held) and held == _database(con)
    known = memo.get(layer, name, years) if holding else None
    if known is not None and not memo.checking():
        return known
    where, args = (f"where academic_year in ({', '.join('?' * len(years))})", list(years)) if years else ("", [])
    try:
        ((n, total),) = con.execute(
            f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {qualified(layer, name)} as t {where}", args
        ).fetchall()
        value = f"{n}:{total}"
    except duckdb.CatalogException:
        value = "absent"
    if known is not None and known != value:
        raise memo.StaleContent(f"{layer}.{name} {' '.join(years)}: known as {known}, holds {value}: written "
                                "by a function that did not say so (warehouse/memo.py wrote)")  # fmt: skip
    if known is None and holding:
        memo.put(layer, name, years, value, _depends(con, layer, name))
    return value


def _depends(con: duckdb.DuckDBPyConnection, layer: str, name: str) -> memo.Depends:
    """What a relation's content depends on (warehouse/memo.py): a table, itself; a view, itself and every table it
    reads, through the views it reads; None when a view's SQL cannot be parsed."""
    views = {
        (schema, view): sql
        for schema, view, sql in con.execute(
            "select schema_name, view_name, sql from duckdb_views() where database_name = current_database() "
            "and not internal"
        ).fetchall()
    }
    out: set[tuple[str, str]] = set()
    todo = [(layer, name)]
    while todo:
        relation = todo.pop()
        if relation in out:
            continue
        out.add(relation)
        if relation[0] == "":  # a name not qualified: any layer's view of that name
            todo += [v for v in views if v[1] == relation[1]]
        elif relation in views:
            reads = _reads(con, views[relation])
            if reads is None:
                return None
            todo += reads
    return frozenset(out)


def _reads(con: duckdb.DuckDBPyConnection, view_sql: str) -> list[tuple[str, str]] | None:
    """The relations a view's SQL (as duckdb_views() gives it: CREATE VIEW … AS <select>) names, as (schema, name),
    '' for a name it does not qualify (a CTE's too: harmless, it only makes the view depend on more); None when the
    SQL cannot be parsed."""
    select = view_sql.split(" AS ", 1)[-1].rstrip().rstrip(";")
    tree = json.loads(con.execute("select json_serialize_sql(?)", [select]).fetchone()[0])
    if tree.get("error"):
        return None
    found, nodes = [], [tree]
    while nodes:
        node = nodes.pop()
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                found.append((node.get("schema_name") or "", node["table_name"]))
            nodes += node.values()
        elif isinstance(node, list):
            nodes += node
    return found


def _database(con: duckdb.DuckDBPyConnection) -> str:
    """The file of the connection's database ('' in memory)."""
    rows = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    return str(Path(rows[0][0]).resolve()) if rows and rows[0][0] else ""


def key(con: duckdb.DuckDBPyConnection, sql: str, params: dict, reads: list[tuple[str, str]], extra: str = "") -> str:
    """The key of a build: its SQL, the parameters it binds, the content of every table it reads (whole) and
    ``extra`` (what else it reads: a file's hash)."""
    bound = {k: str(v) for k, v in params_used(sql, params).items()}
    return digest([sql, bound, {f"{layer}.{name}": content(con, layer, name) for layer, name in reads}, extra])


def digest(parts: list) -> str:
    """A key made of JSON-able parts."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()


def recorded(con: duckdb.DuckDBPyConnection, layer: str, name: str, academic_year: str) -> tuple[str, str] | None:
    """(key, content) of the last recorded build of a table, an academic year of it, or an output file."""
    rows = con.execute(
        "select inputs, content from audit.build where layer = ? and name = ? and academic_year = ?",
        [layer, name, academic_year],
    ).fetchall()
    return rows[0] if rows else None


def record(
    con: duckdb.DuckDBPyConnection, layer: str, name: str, academic_year: str, build_key: str, made: str, run_id: str
) -> None:
    """Record a build just made from ``build_key`` and what it made (a table's content, a file's SHA-256)."""
    con.execute(
        "insert or replace into audit.build values (?, ?, ?, ?, ?, ?, ?)",
        [layer, name, academic_year, build_key, made, run_id, datetime.now(timezone.utc)],
    )


def kept(con: duckdb.DuckDBPyConnection, layer: str, name: str, academic_year: str, build_key: str) -> int | None:
    """The row count of the table (or its academic year) when it was last built from ``build_key`` and still holds
    what that build left; else None."""
    last = recorded(con, layer, name, academic_year)
    if last is None or last[0] != build_key or last[1] != content(con, layer, name, academic_year):
        return None
    return int(last[1].split(":")[0])


def remember(
    con: duckdb.DuckDBPyConnection, layer: str, name: str, academic_year: str, build_key: str, run_id: str
) -> None:
    """Record a table's build just made, with the content it left."""
    record(con, layer, name, academic_year, build_key, content(con, layer, name, academic_year), run_id)
