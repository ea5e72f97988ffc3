"""The integrity checks every table gets without a catalogue entry: each source entity's last load adds up
(rows read = loaded + quarantined, no file set aside), and each national table has one row per key in a year.
Pure SQL over the audit and platform tables; assets/checks.py turns the results into Dagster asset checks."""

from dataclasses import dataclass

import duckdb

from reporting.templates import TableTemplate
from warehouse.db import qualified, quote


@dataclass(frozen=True)
class LoadAccount:
    batch_id: int
    rows_read: int
    rows_inserted: int
    rows_unchanged: int
    rows_quarantined: int
    files_rejected: int
    examples: list[tuple[str, str]]  # (row key or file, reason) of quarantined rows

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_inserted + self.rows_unchanged + self.rows_quarantined


def last_load(con: duckdb.DuckDBPyConnection, system: str, entity: str, examples: int) -> LoadAccount | None:
    """The accounting of an entity's newest batch, or None before its first load."""
    rows = con.execute(
        """
        select batch_id, rows_read, rows_inserted, rows_unchanged, rows_quarantined, files_rejected
        from audit.load_log where system = ? and entity = ? order by batch_id desc limit 1
        """,
        [system, entity],
    ).fetchall()
    if not rows:
        return None
    shown = con.execute(
        """
        select coalesce(row_key, source), reason from audit.quarantine
        where batch_id = ? and system = ? and entity = ? order by row_key nulls first limit ?
        """,
        [rows[0][0], system, entity, examples],
    ).fetchall()
    return LoadAccount(*rows[0], examples=shown)


def duplicate_keys(con: duckdb.DuckDBPyConnection, t: TableTemplate, academic_year: str, limit: int) -> list[tuple]:
    """Keys of a national table held by more than one row in the year: (key values …, rows), most first."""
    filters = "".join(f" and {quote(k)} = ?" for k, _ in t.where)
    cols = ", ".join(quote(k) for k in t.key)
    return con.execute(
        f"""
        select {cols}, count(*) as n from {qualified("platform", t.source_table)}
        where academic_year = ?{filters} group by all having count(*) > 1 order by n desc limit ?
        """,
        [academic_year, *[v for _, v in t.where], limit],
    ).fetchall()
