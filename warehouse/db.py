"""Opening the DuckDB warehouse and running the SQL files that build it.

SQL lives in warehouse/sql/<layer>/<table>.sql and takes its values as bound parameters
(``$academic_year``, ``$stock_date`` …). Identifiers are never taken from data: table names come
from the mapping files and template packs and must match ``ident()``'s allow-list pattern.
"""

import hashlib
import re
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from model.codes import CODES_DIR, code_table_names, college_additions, load_code_table
from warehouse import memo

SQL_DIR = Path(__file__).parent / "sql"
DDL = Path(__file__).parent / "ddl" / "schemas.sql"
LAYERS = ("raw", "staging", "core", "platform", "audit")
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_REF = re.compile(r"\b(raw|staging|core|platform)\.([a-z][a-z0-9_]*)\b(?!\s*\()")  # not macros: core.code_name(
# Reference data that db.init() loads on every connection; SQL may read it without an asset dependency.
INIT_TABLES = {("core", "national_code"), ("staging", "code_translation")}


class WarehouseError(RuntimeError):
    """The warehouse file is missing, locked or unusable; the message says what to do."""


class WarehouseBusy(WarehouseError):
    """Another process (a run) holds the warehouse file."""


def ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not an allowed identifier: {name!r}")
    return name


def quote(name: str) -> str:
    """A column identifier, validated and quoted (fields may be SQL keywords such as ``use``)."""
    return f'"{ident(name)}"'


def qualified(layer: str, name: str) -> str:
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    return f"{layer}.{ident(name)}"


def insert_rows(con: duckdb.DuckDBPyConnection, layer: str, name: str, rows: list[list] | list[tuple]) -> None:
    """Append rows (in the table's column order) in one statement through Arrow: ``executemany`` binds one row at
    a time (30,000 failing rows of a rule took 15 s that way, half a second this way)."""
    if not rows:
        return
    data = pa.table({f"c{i}": _array([r[i] for r in rows]) for i in range(len(rows[0]))})
    con.register("_statedata_rows", data)
    try:
        con.execute(f"insert into {qualified(layer, name)} select * from _statedata_rows")
    finally:
        con.unregister("_statedata_rows")
        memo.wrote(layer, name)


def _array(values: list) -> pa.Array:
    """One column's values; mixed kinds (a translation table keyed by 1 and by 'A') as text, for a text column."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def file_stamp(path: Path) -> list[int] | None:
    """A warehouse file's size and modification time (ns): what says it was not written since. None while it has a
    write-ahead log (a writer has not finished) or does not exist."""
    if not path.exists() or path.with_name(path.name + ".wal").exists():
        return None
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


@contextmanager
def connect(path: str | Path, read_only: bool = False):
    """A connection to the warehouse file; extensions are never downloaded (offline machines)."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"warehouse {path} does not exist yet: run `statedata run` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(
            str(path),
            read_only=read_only,
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise WarehouseBusy(
                f"warehouse {path} is in use by another process (only one writer at a time): {e}"
            ) from None
        raise WarehouseError(f"cannot open warehouse {path}: {e}") from None
    except duckdb.Error as e:  # not a DuckDB file, or damaged
        raise WarehouseError(
            f"cannot open warehouse {path} ({type(e).__name__}: {str(e).splitlines()[0]}); "
            "if it is damaged, `statedata restore` brings back the newest backup"
        ) from None
    try:
        yield con
    finally:
        con.close()


@cache
def _init_version(college_codes: Path | None = None, stamp: tuple = ()) -> str:
    """Content hash of what init() creates: the DDL, the national code tables and the college's additions."""
    h = hashlib.sha256(DDL.read_bytes())
    for t in code_table_names():
        h.update((CODES_DIR / f"{t}.csv").read_bytes())
    for path in sorted(Path(college_codes).glob("*.csv")) if college_codes and Path(college_codes).is_dir() else []:
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def init(con: duckdb.DuckDBPyConnection, college_codes: Path | None = None) -> None:
    """Create the schemas and audit tables and load the national code tables with the college's additions
    (``college_codes``: its codes/ folder), unless this warehouse already has this version of them (then it
    costs one query, not ~70 ms)."""
    stamp = (
        tuple((p.name, p.stat().st_mtime) for p in sorted(Path(college_codes).glob("*.csv")))
        if college_codes and Path(college_codes).is_dir()
        else ()
    )
    version = _init_version(Path(college_codes) if college_codes else None, stamp)
    try:
        if con.execute("select value from audit.meta where key = 'init_version'").fetchall() == [(version,)]:
            return
    except duckdb.CatalogException:
        pass
    memo.forget()  # tables created, code tables replaced
    con.execute(DDL.read_text(encoding="utf-8"))
    additions = college_additions(college_codes)
    tables = {t: {r["code"]: r for r in load_code_table(t)} for t in code_table_names()}
    for t, rows_added in additions.items():  # a college's row for an existing code replaces the national one
        tables[t].update({r["code"]: r for r in rows_added})
    rows = [(t, r["code"], r["name"]) for t, codes in tables.items() for r in codes.values()]
    # extra columns of a code table (e.g. title.csv's level) become tables of their own: 'title.level'
    rows += [
        (f"{t}.{col}", r["code"], r[col])
        for t, codes in tables.items()
        for r in codes.values()
        for col in r
        if col not in ("code", "name") and r[col]
    ]
    con.execute("begin")
    con.execute("delete from core.national_code")
    insert_rows(con, "core", "national_code", rows)
    con.execute("insert or replace into audit.meta values ('init_version', ?)", [version])
    con.execute("commit")


def sql_path(layer: str, name: str) -> Path:
    path = SQL_DIR / layer / f"{ident(name)}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL file for {layer}.{name}: expected {path}")
    return path


def sql_text(layer: str, name: str) -> str:
    return sql_path(layer, name).read_text(encoding="utf-8")


def references(layer: str, name: str, sql: str | None = None) -> list[tuple[str, str]]:
    """The tables a SQL file (or the given SQL text) reads, as (layer, table), in order of first mention."""
    seen = []
    for ref in _REF.findall(re.sub(r"--[^\n]*", "", sql if sql is not None else sql_text(layer, name))):
        if ref not in seen and ref != (layer, name) and ref not in INIT_TABLES:
            seen.append(ref)
    return seen


def table_names(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    """The tables of one schema of this database (not of an attached one), by name."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? order by 1",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


def params_used(sql: str, params: dict) -> dict:
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}


def rebuild(con: duckdb.DuckDBPyConnection, layer: str, name: str, params: dict | None = None) -> int:
    """Replace ``layer.name`` with the result of its SQL file; returns the row count."""
    sql = sql_text(layer, name)
    target = qualified(layer, name)
    try:
        con.execute(f"create or replace table {target} as {sql}", params_used(sql, params or {}))
    finally:
        memo.wrote(layer, name)
    return con.execute(f"select count(*) from {target}").fetchone()[0]
