"""The staging layer, derived from the mapping files: current raw rows, typed and translated.

For every mapped entity, ``staging.<system>__<entity>`` holds the rows of the raw table that are
current (``_valid_to_batch is null``), with:

* strings trimmed, empty strings as null;
* declared translations applied (``staging.tr``: source value → national code or name; values
  with no translation pass through unchanged, for the code checks to find);
* dates parsed (``try_cast``: an impossible date becomes null here, while raw keeps the text);
* the link to raw: ``_raw_id``, ``_source_key``, ``_batch_id`` (and file pedigree for drops).

Because it is generated from the mapping, a college that maps another vendor's tables gets its
staging layer without writing SQL. Identifiers come only from validated mapping names.
"""

import duckdb

from model.canonical import SQL_TYPES, Entity, Model
from model.mapping import EntitySpec, SourceSpec
from warehouse import memo
from warehouse.db import insert_rows, qualified, quote, table_names

TEXT_SUFFIX = "__text"  # <date field>__text: the source text of a date field, for the rule that it is a date


def staging_sql(spec: SourceSpec, entity: EntitySpec) -> str:
    cols = []
    for name in entity.all_fields():
        f = entity.fields.get(name)
        col = quote(name)
        ftype = f.type if f else "string"
        if name in entity.translate:  # integer and boolean codes are translated as their text
            source = f"nullif(trim({col}), '')" if ftype == "string" else f"cast({col} as varchar)"
            expr = f"staging.tr('{spec.system}', '{entity.name}', '{name}', {source})"
        elif ftype == "string":
            expr = f"nullif(trim({col}), '')"
        elif ftype == "date":  # the text too: a rule shows the value that is not a date
            expr = f"try_cast(nullif(trim({col}), '') as date)"
            cols.append(f"nullif(trim({col}), '') as {quote(name + TEXT_SUFFIX)}")
        elif ftype == "decimal":
            expr = f"cast({col} as decimal(18, 2))"
        else:
            expr = col
        cols.append(f"{expr} as {col}")
    pedigree = ["_raw_id", "_source_key", "_batch_id"]
    if spec.kind == "files":
        pedigree += ["_source_file", "_source_sheet", "_source_row"]
    select = ",\n    ".join(cols + pedigree)
    sql = f"select\n    {select}\nfrom {qualified('raw', spec.table_name(entity.name))}\nwhere _valid_to_batch is null"
    if entity.derived:  # expressions over the typed, translated fields
        derived = ", ".join(
            f"cast(({d.expr}) as {SQL_TYPES[d.type]}) as {quote(d.name)}" for d in entity.derived.values()
        )
        sql = f"select *, {derived}\nfrom (\n{sql}\n) as mapped"
    if entity.latest_by:  # one row per key: the latest wins; the others stay in raw
        key = ", ".join(quote(k) for k in entity.primary_key)
        order = ", ".join(f"{quote(k)} desc nulls last" for k in entity.latest_by)
        latest = f"row_number() over (partition by {key} order by {order}, _raw_id)"
        sql = f"select * from (\n{sql}\n) as staged\nqualify {latest} = 1"
    return sql


PEDIGREE = {
    "_system": "varchar",
    "_raw_id": "varchar",
    "_source_key": "varchar",
    "_batch_id": "bigint",
    "_source_file": "varchar",
    "_source_sheet": "varchar",
    "_source_row": "bigint",
}


def canonical_sql(entity: Entity, feeders: list[tuple[SourceSpec, EntitySpec]]) -> str:
    """``staging.<entity>``: the rows of every mapping that feeds the canonical entity, with the model's
    fields in the model's types (null where a mapping does not give one), the system each row came from
    and its pedigree. No feeder: no rows, same columns."""
    parts = []
    for spec, e in feeders:
        staged = set(e.staged_fields())
        cols = [
            f"cast({quote(f.name) if f.name in staged else 'null'} as {f.sql_type}) as {quote(f.name)}"
            for f in entity.fields.values()
        ]
        texts = {n for n in e.all_fields() if n in e.fields and e.fields[n].type == "date"}  # have <f>__text
        for f in entity.fields.values():
            if f.type == "date":
                text = quote(f.name + TEXT_SUFFIX)
                src = text if f.name in texts else f"cast({quote(f.name)} as varchar)" if f.name in staged else "null"
                cols.append(f"{src}::varchar as {text}")
        files = spec.kind == "files"
        cols += [
            f"'{spec.system}' as _system",
            "_raw_id",
            "_source_key",
            "_batch_id",
            "_source_file" if files else "null::varchar as _source_file",
            "_source_sheet" if files else "null::varchar as _source_sheet",
            "_source_row" if files else "null::bigint as _source_row",
        ]
        parts.append(f"select {', '.join(cols)}\nfrom {qualified('staging', spec.table_name(e.name))}")
    if not parts:
        cols = [f"null::{f.sql_type} as {quote(f.name)}" for f in entity.fields.values()]
        cols += [f"null::varchar as {quote(f.name + TEXT_SUFFIX)}" for f in entity.fields.values() if f.type == "date"]
        cols += [f"null::{t} as {c}" for c, t in PEDIGREE.items()]
        parts.append(f"select {', '.join(cols)} where false")
    return "\nunion all\n".join(parts)


def load_translations(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    rows = [
        (spec.system, e.name, f, src, tgt)
        for e in spec.entities.values()
        for f, table in e.translate.items()
        for src, tgt in table.items()
    ]
    con.execute("delete from staging.code_translation where system = ?", [spec.system])
    memo.wrote("staging", "code_translation")
    insert_rows(con, "staging", "code_translation", rows)


def build_staging(con: duckdb.DuckDBPyConnection, spec: SourceSpec, entity: EntitySpec) -> tuple[int, int]:
    """Rebuild one mapping's staging table; returns its rows and the current raw rows a later row with the
    same key superseded (``latest_by``), which stay in raw."""
    target = qualified("staging", spec.table_name(entity.name))
    memo.wrote("staging", spec.table_name(entity.name))
    con.execute(f"create or replace table {target} as {staging_sql(spec, entity)}")
    n = con.execute(f"select count(*) from {target}").fetchone()[0]
    if not entity.latest_by:
        return n, 0
    current = con.execute(
        f"select count(*) from {qualified('raw', spec.table_name(entity.name))} where _valid_to_batch is null"
    ).fetchone()[0]
    return n, current - n


def staged_rows(con: duckdb.DuckDBPyConnection, spec: SourceSpec, entity: EntitySpec) -> int:
    """The rows of a mapping's staging table as it stands (a system with nothing to read keeps it)."""
    return con.execute(f"select count(*) from {qualified('staging', spec.table_name(entity.name))}").fetchone()[0]


class ViewError(ValueError):
    """A college view (views/<entity>.sql) that cannot define its canonical relation; the message says why."""


def college_view_sql(con: duckdb.DuckDBPyConnection, name: str, entity: Entity, sql: str) -> str:
    """``staging.<entity>`` from the college's own SQL: its columns that are canonical fields, in the model's
    types, the others null; ``_raw_id`` (required: every row must lead back to a source row) and the rest of
    the pedigree where the SQL gives it."""
    try:
        columns = {r[0] for r in con.execute(f"describe ({sql})").fetchall()}
    except duckdb.Error as err:
        raise ViewError(f"views/{name}.sql: {type(err).__name__}: {str(err).splitlines()[0]}") from None
    if "_raw_id" not in columns:
        raise ViewError(f"views/{name}.sql: the SELECT must yield _raw_id (the source row of each row, for tracing)")
    cols = [
        f"cast(v.{quote(f.name)} as {f.sql_type}) as {quote(f.name)}"
        if f.name in columns
        else f"null::{f.sql_type} as {quote(f.name)}"
        for f in entity.fields.values()
    ]
    for f in entity.fields.values():
        if f.type == "date":
            text = f.name + TEXT_SUFFIX
            src = f"v.{quote(text)}" if text in columns else f"v.{quote(f.name)}" if f.name in columns else "null"
            cols.append(f"cast({src} as varchar) as {quote(text)}")
    cols += [
        f"cast(v.{c} as {t}) as {c}"
        if c in columns
        else (f"'view:{name}' as _system" if c == "_system" else f"null::{t} as {c}")
        for c, t in PEDIGREE.items()
    ]
    return f"select {', '.join(cols)}\nfrom (\n{sql}\n) as v"


def build_canonical(
    con: duckdb.DuckDBPyConnection, model: Model, specs: dict[str, SourceSpec], views: dict[str, str] | None = None
) -> dict[str, tuple[int, list[str]]]:
    """(Re)create every ``staging.<entity>`` view: the college's own SQL where it has one (views/), else the
    union of the staging tables that exist now. Returns, per entity, its row count and what it reads."""
    views = views or {}
    existing = set(table_names(con, "staging"))
    out = {}
    for name, entity in model.entities.items():
        if name in views:
            sql = college_view_sql(con, name, entity, views[name])
            reads = [f"views/{name}.sql"]
        else:
            feeders = [
                (s, e)
                for s in specs.values()
                for e in s.entities.values()
                if e.canonical == name and s.table_name(e.name) in existing
            ]
            sql = canonical_sql(entity, feeders)
            reads = [s.table_name(e.name) for s, e in feeders]
        before = _definition(con, name)
        con.execute(f"create or replace view {qualified('staging', name)} as {sql}")
        if _definition(con, name) != before:  # else the same SELECT of the same tables: the rows known are its rows
            memo.wrote("staging", name)
        n = con.execute(f"select count(*) from {qualified('staging', name)}").fetchone()[0]
        out[name] = (n, reads)
    return out


def _definition(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    rows = con.execute(
        "select sql from duckdb_views() where database_name = current_database() and schema_name = 'staging' "
        "and view_name = ?",
        [name],
    ).fetchall()
    return rows[0][0] if rows else None
