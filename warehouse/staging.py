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

from model.mapping import EntitySpec, SourceSpec
from warehouse.db import qualified, quote


def staging_sql(spec: SourceSpec, entity: EntitySpec) -> str:
    cols = []
    for name in entity.all_fields():
        f = entity.fields.get(name)
        col = quote(name)
        ftype = f.type if f else "string"
        if ftype == "string":
            expr = f"nullif(trim({col}), '')"
            if name in entity.translate:
                expr = f"staging.tr('{spec.system}', '{entity.name}', '{name}', {expr})"
        elif ftype == "date":
            expr = f"try_cast(nullif(trim({col}), '') as date)"
        elif ftype == "decimal":
            expr = f"cast({col} as decimal(18, 2))"
        else:
            expr = col
        cols.append(f"{expr} as {col}")
    pedigree = ["_raw_id", "_source_key", "_batch_id"]
    if spec.kind == "files":
        pedigree += ["_source_file", "_source_sheet", "_source_row"]
    select = ",\n    ".join(cols + pedigree)
    return f"select\n    {select}\nfrom {qualified('raw', spec.table_name(entity.name))}\nwhere _valid_to_batch is null"


def load_translations(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    rows = [
        (spec.system, e.name, f, src, tgt)
        for e in spec.entities.values()
        for f, table in e.translate.items()
        for src, tgt in table.items()
    ]
    con.execute("delete from staging.code_translation where system = ?", [spec.system])
    if rows:
        con.executemany("insert into staging.code_translation values (?, ?, ?, ?, ?)", rows)


def build_staging(con: duckdb.DuckDBPyConnection, spec: SourceSpec, entity: EntitySpec) -> int:
    target = qualified("staging", spec.table_name(entity.name))
    con.execute(f"create or replace table {target} as {staging_sql(spec, entity)}")
    return con.execute(f"select count(*) from {target}").fetchone()[0]
