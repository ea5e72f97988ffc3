"""A source system held in memory: the fixture-backed fake of the SQL client, with its shape and its rules.

Rows are given per entity as dicts keyed by the source's own column names, as the mapping file reads them;
values go through the same coercion as every client, so a bad value or an empty key is quarantined with its
reason, and ``since`` filters on the change column as the SQL client's query does. For tests, and for trying
a mapping file on a few hand-written rows before a database is reachable.
"""

import hashlib
from dataclasses import replace

import pyarrow as pa

from connectors.base import ARROW_TYPES, Extract, SourceError, coerce
from model.mapping import EntitySpec, SourceSpec


class MemorySource:
    def __init__(self, spec: SourceSpec, rows: dict[str, list[dict]], location: str = "memory"):
        self.spec = spec
        self.rows = rows
        self.location = f"{location}:{spec.system}"

    def close(self) -> None:  # same shape as SqlSource; nothing to release
        pass

    def probe(self, entity: EntitySpec) -> str | None:
        """A hash of the entity's rows as given (their order included: a fake need not be clever)."""
        return hashlib.sha256(repr(self.rows.get(entity.name)).encode()).hexdigest()

    def extract(self, entity: EntitySpec, since: str | None = None) -> Extract:
        if entity.name not in self.rows:
            raise SourceError(f"{self.spec.system}: no table {entity.source_name} in {self.location}")
        rows = self.rows[entity.name]
        if since is not None and entity.change_column:
            rows = [r for r in rows if r.get(entity.change_column) is not None and r[entity.change_column] >= since]
        names = list(entity.fields)
        missing = sorted({entity.fields[n].column for n in names} - {c for r in rows for c in r})
        if rows and missing:
            raise SourceError(f"{self.spec.system}: {entity.source_name} has no column {', '.join(missing)}")
        columns = {n: [r.get(entity.fields[n].column) for r in rows] for n in names}
        labels = [
            "|".join(
                "" if r.get(entity.fields[k].column) is None else str(r[entity.fields[k].column])
                for k in entity.primary_key
            )
            or f"row {i + 1}"
            for i, r in enumerate(rows)
        ]
        where = f"{self.spec.system}.{entity.source_name}"
        arrays, bad = coerce(entity, columns, labels, where)
        table = (
            pa.table(arrays)
            if rows
            else pa.table({n: pa.array([], type=ARROW_TYPES[entity.fields[n].type]) for n in names})
        )
        return Extract(
            table=table, rows_read=len(rows), quarantined=bad, source=f"{self.location} {entity.source_name}"
        )

    def extract_keys(self, entity: EntitySpec) -> Extract:
        """Only the primary-key columns of every row: what an incremental load needs to see deletions."""
        keys = {k: entity.fields[k] for k in entity.primary_key}
        return self.extract(replace(entity, fields=keys, translate={}, change_column=None))
