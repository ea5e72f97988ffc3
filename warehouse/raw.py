"""Loading one extraction batch into the raw layer, as row versions.

``raw.<system>__<entity>`` keeps every version of every source row it has seen:

* the canonical fields, as extracted (no cleaning);
* pedigree: ``_source_system``, ``_source_table``, ``_source_key``, ``_row_hash``, ``_raw_id``,
  ``_batch_id`` (batch that first saw this version), ``_extracted_at``, and for file drops
  ``_source_file`` / ``_source_sheet`` / ``_source_row``;
* ``_valid_to_batch``: the batch in which this version stopped being current (changed or deleted
  at the source), null while it is current.

A load with unchanged sources inserts nothing and closes nothing (idempotent). All entities of one
system are loaded in one transaction, so a batch is visible all or nothing. When a mapping starts
reading a new field, the raw table gains the column and every row is read again, so each current row
gets a version with the new field (older versions keep it empty).
"""

from dataclasses import dataclass, replace
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Extract
from model.mapping import EntitySpec, SourceSpec
from warehouse import memo
from warehouse.db import ident, insert_rows, qualified, quote

PEDIGREE = (
    "_source_system",
    "_source_table",
    "_source_key",
    "_row_hash",
    "_raw_id",
    "_batch_id",
    "_extracted_at",
    "_valid_to_batch",
)


class SchemaDriftError(RuntimeError):
    """A column's type differs from the type frozen in the raw table on first load."""


@dataclass
class LoadStats:
    entity: str
    rows_read: int
    rows_inserted: int
    rows_unchanged: int
    rows_closed: int
    rows_quarantined: int
    files_rejected: int
    extraction: str = "full"  # or "changed": only the rows whose change column moved
    rows_changed_unmarked: int | None = None  # a full read's changed rows whose change column had not moved


def watermark(con: duckdb.DuckDBPyConnection, spec: SourceSpec, entity: EntitySpec) -> str | None:
    """The newest change-column value among the current rows: where an incremental extraction starts."""
    field = next((f.name for f in entity.fields.values() if f.column == entity.change_column), None)
    existing = _columns(con, "raw", spec.table_name(entity.name))
    if field is None or not existing or set(entity.all_fields()) - set(existing):
        return None  # first load, or the mapping now reads more fields: read every row once
    rows = con.execute(
        f"select max({quote(field)}) from {qualified('raw', spec.table_name(entity.name))} "
        "where _valid_to_batch is null"
    ).fetchall()
    return None if rows[0][0] is None else str(rows[0][0])


def incremental_start(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, entity: EntitySpec, reconcile_days: float, now: datetime
) -> str | None:
    """Where an incremental extraction of an entity with a change column starts (its watermark), or None when
    it is read whole: the first time, when the mapping reads new fields, or when its last whole read (which
    compares every key and row hash, so it also catches rows changed without their change column moving) is
    older than ``reconcile_days``."""
    start = watermark(con, spec, entity)
    if start is None:
        return None
    last = con.execute(
        "select max(b.started_at) from audit.load_log l join audit.batch b using (batch_id) "
        "where l.system = ? and l.entity = ? and l.extraction = 'full'",
        [spec.system, entity.name],
    ).fetchone()[0]
    if last is None or (now - last).total_seconds() >= reconcile_days * 86400:
        return None
    return start


def whole_read_due(
    con: duckdb.DuckDBPyConnection, specs: dict[str, SourceSpec], reconcile_days: float, now: datetime
) -> list[str]:
    """Tables with a change column that the next run reads whole (``incremental_start`` is None): their whole
    read, which finds rows changed without their change column moving, is due (``system.table``)."""
    return [
        f"{spec.system}.{e.source_name}"
        for spec in specs.values()
        for e in spec.entities.values()
        if e.change_column and incremental_start(con, spec, e, reconcile_days, now) is None
    ]


def unreconciled(con: duckdb.DuckDBPyConnection, specs: dict[str, SourceSpec]) -> list[str]:
    """Tables extracted by their change column whose latest load read only the changed rows: a row changed
    at the source without its change column moving may be missing until a whole read (``system.table``)."""
    out = []
    for spec in specs.values():
        for e in spec.entities.values():
            if not e.change_column:
                continue
            last = con.execute(
                "select extraction from audit.load_log where system = ? and entity = ? order by batch_id desc limit 1",
                [spec.system, e.name],
            ).fetchall()
            if last and last[0][0] != "full":
                out.append(f"{spec.system}.{e.source_name}")
    return out


def row_identity_sql(entity: EntitySpec) -> tuple[str, str]:
    """SQL expressions of an extracted row's source key and content hash (the loader and `trace --verify`
    compute them the same way)."""
    hashed = " , ".join(f"coalesce(cast({quote(f)} as varchar), chr(0))" for f in entity.all_fields())
    key = " , ".join(f"coalesce(cast({quote(k)} as varchar), '')" for k in entity.primary_key)
    return f"concat_ws('|', {key})", f"md5(concat_ws(chr(31), {hashed}))"


def next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select coalesce(max(batch_id), 0) + 1 from audit.batch").fetchone()[0]


def _columns(con, layer: str, name: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [layer, name],
    ).fetchall()
    return dict(rows)


EXCEL_CELL_LIMIT = 32_767  # the most one Excel cell holds, counted as Excel counts (UTF-16 code units)


def set_aside_overlong(spec: SourceSpec, entity: EntitySpec, extract: Extract) -> Extract:
    """The extract without the rows holding a text longer than an Excel cell holds; those are quarantined.

    The national tables are Excel files, and the writer would cut such a text without a word. Every source's
    rows pass through ``load_entity`` (drops of every kind, SQL tables read by either path), so the limit is
    checked here, once. A row is named by its file, sheet and row (drops) or by its key (SQL)."""
    table = extract.table
    long: dict[int, list[tuple[str, int]]] = {}
    for f in entity.all_fields():
        if f not in table.column_names or not pa.types.is_string(table.schema.field(f).type):
            continue
        offset = 0
        for chunk in table.column(f).chunks:  # a text's UTF-8 bytes are at least its UTF-16 units: a cheap sieve
            sieve = pc.fill_null(pc.greater(pc.binary_length(chunk), EXCEL_CELL_LIMIT), False)
            for j in pc.indices_nonzero(sieve).to_pylist():
                n = len(chunk[j].as_py().encode("utf-16-le")) // 2
                if n > EXCEL_CELL_LIMIT:
                    long.setdefault(offset + j, []).append((f, n))
            offset += len(chunk)
    if not long:
        return extract
    drop = "_source_row" in table.column_names
    records = []
    for i in sorted(long):
        if drop:
            file, sheet, row = (table.column(c)[i].as_py() for c in ("_source_file", "_source_sheet", "_source_row"))
            where = f"{file}#{sheet}" if sheet else file
            key, place, noun = f"{where} row {row}", f"{where} 第 {row} 行", "单元格"
        else:
            where = f"{spec.system}.{entity.source_name}"
            values = [table.column(k)[i].as_py() for k in entity.primary_key]
            key = "|".join("" if v is None else str(v) for v in values) or f"row {i + 1}"
            place, noun = f"{where} 键 {key}", "值"
        columns = [
            (entity.fields[f].column if f in entity.fields else entity.cell_fields.get(f, f), n) for f, n in long[i]
        ]
        records.append(
            dict(
                source=where,
                key=key,
                column=", ".join(c for c, _ in columns),
                value=table.column(long[i][0][0])[i].as_py()[:200],
                reason=f"{place}，{'、'.join(f'列“{c}”的{noun}长 {n:,} 字符' for c, n in columns)}，"
                f"超过 Excel 单元格上限 {EXCEL_CELL_LIMIT:,} 字符（国家报表是 Excel 文件，写入时会被截断）："
                "请在源数据中缩短后重新提交",
            )
        )
    keep = pa.array([i not in long for i in range(table.num_rows)])
    return replace(extract, table=table.filter(keep), quarantined=[*extract.quarantined, *records])


def load_entity(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    entity: EntitySpec,
    extract: Extract,
    batch_id: int,
    extracted_at: datetime,
    keys: pa.Table | None = None,
) -> LoadStats:
    """Merge one extracted entity into its raw table. Call inside an open transaction.

    Without ``keys`` the extract is the whole source table: versions it no longer has are closed.
    With ``keys`` (every primary key the source has now) the extract is only the rows changed since
    the last watermark: versions of those keys are replaced, and keys missing from ``keys`` closed.
    """
    extract = set_aside_overlong(spec, entity, extract)
    name = ident(spec.table_name(entity.name))
    target = qualified("raw", name)
    fields = [quote(f) for f in entity.all_fields()]
    extra = [c for c in extract.table.column_names if c.startswith("_source_")]
    key_expr, hash_expr = row_identity_sql(entity)
    existing = _columns(con, "raw", name)
    # the first load creates the raw table from the extract at once; a later one compares the versions with it
    made = target if not existing else "_versions"
    memo.wrote("raw", name)  # from here on (and on every way out: the batch commits or rolls back as a whole)
    con.register("_incoming", extract.table)
    try:
        con.execute(
            f"""
            create {"table" if not existing else "or replace temp table"} {made} as
            with hashed as (
                select *,
                       {key_expr} as _source_key,
                       {hash_expr} as _row_hash
                from _incoming
            ),
            numbered as (
                select *, row_number() over (partition by _source_key, _row_hash order by _source_key) as _dup_seq
                from hashed
            )
            select {", ".join(fields + extra)},
                   ?::varchar as _source_system,
                   ?::varchar as _source_table,
                   _source_key,
                   _row_hash,
                   md5(concat_ws(chr(31), ?, ?, _source_key, _row_hash, _dup_seq::varchar)) as _raw_id,
                   ?::bigint as _batch_id,
                   ?::timestamptz as _extracted_at,
                   null::bigint as _valid_to_batch
            from numbered
        """,
            [spec.system, entity.source_name, spec.system, entity.name, batch_id, extracted_at],
        )
    finally:
        con.unregister("_incoming")
    unmarked = None
    if not existing:
        inserted, closed = extract.table.num_rows, 0
    else:
        incoming = _temp_columns(con)
        for col, typ in incoming.items():
            if col in existing and existing[col] != typ:
                raise SchemaDriftError(
                    f"{spec.system}.{entity.source_name}: field {col} arrived as {typ} but raw.{name} froze it as "
                    f"{existing[col]} (mapping {spec.path}); fix the source or the mapping's declared type"
                )
        for col, typ in incoming.items():  # a field the mapping reads since this version: older rows lack it
            if col not in existing:
                con.execute(f"alter table {target} add column {quote(col)} {typ}")
        missing = set(existing) - set(incoming)
        if missing - {"_source_file", "_source_sheet", "_source_row"}:
            raise SchemaDriftError(
                f"{spec.system}.{entity.source_name}: raw.{name} has column(s) {sorted(missing)} "
                f"that the mapping no longer yields (mapping {spec.path})"
            )
        if keys is None and entity.change_column:  # a reconciliation: what did the change column not show?
            change = quote(next(f.name for f in entity.fields.values() if f.column == entity.change_column))
            unmarked = con.execute(f"""
                with cur as (select _source_key, _row_hash, {change} as c from {target} where _valid_to_batch is null)
                select count(*) from _versions v
                where not exists (select 1 from cur where cur._source_key = v._source_key
                                  and cur._row_hash = v._row_hash)
                  and exists (select 1 from cur where cur._source_key = v._source_key
                              and cur.c is not distinct from v.{change})
            """).fetchone()[0]  # new content under a key whose change-column value is already there (repeated keys too)
        if keys is None:
            gone = "_raw_id not in (select _raw_id from _versions)"
        else:
            con.register("_keys", keys)
            con.execute(f"create or replace temp table _current_keys as select {key_expr} as k from _keys")
            con.unregister("_keys")
            gone = (
                "(_source_key in (select _source_key from _versions)"
                " and _raw_id not in (select _raw_id from _versions))"
                " or _source_key not in (select k from _current_keys)"
            )
        closed = con.execute(
            f"update {target} set _valid_to_batch = ? where _valid_to_batch is null and ({gone})", [batch_id]
        ).fetchone()[0]
        if keys is not None:
            con.execute("drop table _current_keys")
        inserted = con.execute(f"""
            insert into {target} by name
            select * from _versions
            where _raw_id not in (select _raw_id from {target} where _valid_to_batch is null)
        """).fetchone()[0]
        con.execute("drop table _versions")
    stats = LoadStats(
        entity=entity.name,
        rows_read=extract.rows_read,
        rows_inserted=inserted,
        rows_unchanged=extract.table.num_rows - inserted,
        rows_closed=closed,
        rows_quarantined=extract.rows_quarantined,
        files_rejected=extract.files_rejected,
        extraction="full" if keys is None else "changed",
        rows_changed_unmarked=unmarked,
    )
    con.execute(
        "insert into audit.load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            batch_id,
            spec.system,
            entity.name,
            stats.rows_read,
            stats.rows_inserted,
            stats.rows_unchanged,
            stats.rows_closed,
            stats.rows_quarantined,
            stats.files_rejected,
            stats.extraction,
            stats.rows_changed_unmarked,
        ],
    )
    insert_rows(
        con,
        "audit",
        "quarantine",
        [
            [batch_id, spec.system, entity.name, q["source"], q["key"], q["column"], q["value"], q["reason"]]
            for q in extract.quarantined
        ],
    )
    return stats


class BatchError(RuntimeError):
    """A batch could not be loaded; nothing of it was kept (the message says which system and why)."""


def load_batch(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    extracts: dict[str, Extract],
    started: datetime,
    location: str,
    keys: dict[str, pa.Table] | None = None,
) -> tuple[int, dict[str, "LoadStats"]]:
    """Load one extraction of a source system as one batch, in one transaction: every entity and the batch's
    audit row, or nothing. ``keys``: the full key sets of entities extracted incrementally (rows whose key is
    gone were deleted at the source). Raises SchemaDriftError, or BatchError for anything else."""
    batch = next_batch_id(con)
    con.execute("begin")
    try:
        stats = {
            name: load_entity(con, spec, spec.entities[name], x, batch, started, keys=(keys or {}).get(name))
            for name, x in extracts.items()
        }
        con.execute(
            "insert into audit.batch values (?, ?, ?, ?, ?, 'committed')",
            [batch, spec.system, location, started, datetime.now(timezone.utc)],
        )
        con.execute("commit")
    except SchemaDriftError:
        con.execute("rollback")
        memo.forget()
        raise
    except Exception as err:
        con.execute("rollback")
        memo.forget()
        raise BatchError(
            f"{spec.system}: loading batch {batch} failed, nothing of it was kept: {type(err).__name__}: {err}"
        ) from err
    return batch, stats


def confirm_unchanged(con: duckdb.DuckDBPyConnection, locations: dict[str, str], started: datetime) -> None:
    """Record that each source system (system -> its location, redacted) was found, at ``started``, as its last
    committed batch read it: a batch with the status 'unchanged' and no rows. The source is as current as after
    an extraction (R-SJ-001 counts it), and nothing was read."""
    first, now = next_batch_id(con), datetime.now(timezone.utc)
    con.executemany(
        "insert into audit.batch values (?, ?, ?, ?, ?, 'unchanged')",
        [[first + i, system, location, started, now] for i, (system, location) in enumerate(locations.items())],
    )


def current_rows(con: duckdb.DuckDBPyConnection, spec: SourceSpec, entity: str) -> int:
    """How many source rows of an entity are current (their newest version not closed)."""
    table = qualified("raw", spec.table_name(entity))
    return con.execute(f"select count(*) from {table} where _valid_to_batch is null").fetchall()[0][0]


def _temp_columns(con) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_name = '_versions' order by ordinal_position"
    ).fetchall()
    return dict(rows)
