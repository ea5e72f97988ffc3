"""Compacting the warehouse file: its tables copied into a new file, which takes its place once every table is proved
to hold the same rows.

DuckDB reuses the blocks that a replaced table frees, so the file does not grow night after night, but it never gives
them back to the disk: after weeks of runs about an eighth of the `large` demo's file is free blocks, and a college
whose tables shrank (a system retired, a mapping narrowed) keeps its old size. ``compact`` writes the warehouse anew
(DuckDB's COPY FROM DATABASE: schemas, tables, views, macros, constraints), compares every table of the copy with
the original (row count and the sum of a hash of every row, warehouse/fingerprint.py; this also reads the copy to its
last block), and only then renames it over the warehouse. Anything wrong leaves the warehouse as it was.

The nightly run compacts in its backup step when the free share reaches STATEDATA_COMPACT_FREE (default 20%);
`statedata compact` does it on demand. The caller holds the working folder's lock and no connection is open.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from model.settings import Settings
from warehouse.backup import mark_whole
from warehouse.db import WarehouseError, connect, file_stamp
from warehouse.inputs import restamp


@dataclass(frozen=True)
class Compaction:
    before_bytes: int
    after_bytes: int
    free_share: float  # of the blocks of the file before, free
    seconds: float


def free_share(warehouse: Path) -> float:
    """The share of the warehouse file's blocks that are free (after a checkpoint): what compacting would give back."""
    with connect(warehouse) as con:
        con.execute("checkpoint")
        total, free = con.execute("select total_blocks, free_blocks from pragma_database_size()").fetchone()
    return free / total if total else 0.0


def compact(warehouse: Path) -> Compaction:
    """Write the warehouse anew without its free blocks; raises WarehouseError (the warehouse untouched) when the copy
    does not hold what the warehouse holds."""
    warehouse = Path(warehouse)
    started = time.perf_counter()
    share, before = free_share(warehouse), warehouse.stat().st_size
    fresh = warehouse.with_name(warehouse.name + ".compacting")
    for left in (fresh, fresh.with_name(fresh.name + ".wal")):  # what a compaction that was killed left
        left.unlink(missing_ok=True)
    try:
        with connect(warehouse) as con:
            source = con.execute("select current_database()").fetchone()[0]
            con.execute(f"attach '{_literal(fresh)}' as compacted")
            try:
                con.execute(f'copy from database "{source}" to compacted')
                differing = _differing(con, source)
            finally:
                con.execute("detach compacted")
        if differing:
            raise WarehouseError(
                f"compacting {warehouse}: the copy differs from the warehouse in {', '.join(differing[:10])}; "
                "the warehouse is left as it was"
            )
        fresh.replace(warehouse)
    except duckdb.Error as e:
        raise WarehouseError(f"compacting {warehouse} failed ({type(e).__name__}: {e}); it is left as it was") from None
    finally:
        fresh.unlink(missing_ok=True)
    return Compaction(before, warehouse.stat().st_size, share, time.perf_counter() - started)


def _differing(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """The tables (and views, macros) of the warehouse that the copy lacks or holds otherwise."""
    catalog = {
        "tables": "select schema_name, table_name from duckdb_tables() where database_name = ? order by all",
        "views": "select schema_name, view_name, sql from duckdb_views() where database_name = ? and not internal "
        "order by all",
        "macros": "select schema_name, function_name, macro_definition from duckdb_functions() "
        "where database_name = ? and function_type = 'macro' and not internal order by all",
    }
    out = [
        what
        for what, sql in catalog.items()
        if con.execute(sql, [source]).fetchall() != con.execute(sql, ["compacted"]).fetchall()
    ]
    for schema, table in con.execute(catalog["tables"], [source]).fetchall():
        contents = [
            con.execute(f'select count(*), sum(hash(t)::hugeint) from "{db}"."{schema}"."{table}" as t').fetchone()
            for db in (source, "compacted")
        ]
        if contents[0] != contents[1]:
            out.append(f"{schema}.{table}")
    return out


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def due(settings: Settings, share: float) -> bool:
    """Whether a run compacts the warehouse whose ``share`` of blocks is free (STATEDATA_COMPACT_FREE; 100%: never)."""
    return settings.compact_free < 1 and share >= settings.compact_free


def compact_warehouse(settings: Settings) -> Compaction:
    """Compact the working folder's warehouse. What is recorded of the file as it was (the ledger and the contents a
    run knew, warehouse/inputs.py; its being known whole, warehouse/backup.py) is carried to the new file, which holds
    the same rows and was read whole to compare them."""
    before = file_stamp(settings.warehouse)
    done = compact(settings.warehouse)
    after = file_stamp(settings.warehouse)
    restamp(settings, before, after)
    mark_whole(settings.backups_dir, after)
    return done
