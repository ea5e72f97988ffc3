"""Content fingerprints of warehouse tables: what a rule result is bound to.

A rule's result is only worth something about the data it examined. Each evaluation records the fingerprint
of the tables it read; the gate (the package, the exports' draft marking, the `submission_ready` check)
accepts a result only while the tables still have that fingerprint, so data rebuilt by a run that stopped
before its rules, or changed by hand, are never published as checked.

A table's fingerprint is its row count and the sum of a hash of every row: independent of row order and of
physical layout, changed by any value, any added, removed or duplicated row. A national table is fingerprinted
on the academic year's rows and the previous year's (what continuity rules compare), so that another year's
rebuild leaves this year's results valid.
"""

import hashlib

import duckdb

from warehouse.builds import content


def table_fingerprint(con: duckdb.DuckDBPyConnection, layer: str, name: str, academic_year: str, previous: str) -> str:
    """A table's content (warehouse/builds.py); a national table's on the academic year's and the previous year's
    rows; 'absent' when there is no such table."""
    return content(con, layer, name, academic_year, previous) if layer == "platform" else content(con, layer, name)


def fingerprint(parts: dict[tuple[str, str], str]) -> str:
    """One fingerprint of several tables' fingerprints ((layer, table) -> table fingerprint)."""
    text = "|".join(f"{layer}.{name}={fp}" for (layer, name), fp in sorted(parts.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Fingerprints:
    """Table fingerprints computed once per table for one evaluation (many rules read the same tables); a table
    that does not exist has the fingerprint 'absent'."""

    def __init__(self, con: duckdb.DuckDBPyConnection, academic_year: str, previous: str):
        self.con, self.year, self.previous = con, academic_year, previous
        self.cache: dict[tuple[str, str], str] = {}

    def of(self, tables: list[tuple[str, str]]) -> str:
        for t in tables:
            if t not in self.cache:
                self.cache[t] = table_fingerprint(self.con, *t, self.year, self.previous)
        return fingerprint({t: self.cache[t] for t in tables})
