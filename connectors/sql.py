"""Client for campus systems that live in a SQL database reachable through SQLAlchemy.

The same client works for SQLite (the embedded demo), PostgreSQL, MySQL/MariaDB, SQL Server and
Oracle: it only uses SQLAlchemy Core (reflection and ``select``), streams rows in chunks and builds
Arrow arrays per chunk. See scripts/bench_extract.py for the measured alternatives.
"""

from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from connectors.base import ARROW_TYPES, Extract, SourceError, coerce
from connectors.mapping import EntitySpec, SourceSpec

CHUNK_ROWS = 100_000

# Which reflected SQL types are acceptable for each declared field type.
_COMPATIBLE = {
    "string": (sa.String, sa.Text, sa.Enum),
    "integer": (sa.Integer,),
    "decimal": (sa.Integer, sa.Numeric, sa.Float),
    "date": (sa.Date, sa.DateTime, sa.String, sa.Text),
}


def redact(url: str) -> str:
    """The URL as it may appear in messages and logs: no password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown as its scheme only
        return url.split(":", 1)[0] + "://…"


class SqlSource:
    def __init__(self, spec: SourceSpec, url: str):
        self.spec = spec
        self.url = url
        self.safe_url = redact(url)
        self.location = self.safe_url
        self._engine: sa.Engine | None = None
        self._tables: dict[str, sa.Table] = {}

    # -- connection ------------------------------------------------------------------------------
    def engine(self) -> sa.Engine:
        if self._engine is None:
            url = make_url(self.url)
            if url.get_backend_name() == "sqlite":
                db = url.database
                if not db or db == ":memory:" or not Path(db).is_file():
                    raise SourceError(
                        f"source database for system '{self.spec.system}' not found: {db} "
                        f"(set {self.spec.env} to its SQLAlchemy URL, or run `statedata demo` for the demo campus)")
                # open read-only: a wrong path must never create an empty database
                self._engine = sa.create_engine(f"sqlite:///file:{Path(db).resolve()}?mode=ro&uri=true")
            else:
                self._engine = sa.create_engine(url, pool_pre_ping=True)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- schema ----------------------------------------------------------------------------------
    def table(self, entity: EntitySpec) -> sa.Table:
        if entity.table not in self._tables:
            try:
                self._tables[entity.table] = sa.Table(entity.table, sa.MetaData(), autoload_with=self.engine())
            except sa.exc.NoSuchTableError:
                raise SourceError(f"{self.spec.system}: table {entity.table} not found in {self.safe_url} "
                                  f"(mapping {self.spec.path}, entity {entity.name})") from None
            except sa.exc.OperationalError as e:
                raise SourceError(f"{self.spec.system}: cannot read {self.safe_url}: {e.orig}") from None
        return self._tables[entity.table]

    def check_schema(self, entity: EntitySpec) -> None:
        """Fail with a precise message if a mapped column is missing or has an incompatible type."""
        t = self.table(entity)
        for f in entity.fields.values():
            if f.column not in t.c:
                raise SourceError(
                    f"{self.spec.system}: column {entity.table}.{f.column} (field {f.name}) not found; "
                    f"the table has {', '.join(c.name for c in t.c)} (mapping {self.spec.path})")
            found = t.c[f.column].type
            if isinstance(found, sa.types.NullType):
                continue  # SQLite columns without a declared type: checked value by value
            if not isinstance(found, _COMPATIBLE[f.type]):
                raise SourceError(
                    f"{self.spec.system}: column {entity.table}.{f.column} changed type: expected {f.type} "
                    f"(field {f.name} in {self.spec.path}), found {found}")

    # -- extraction ------------------------------------------------------------------------------
    def extract(self, entity: EntitySpec) -> Extract:
        self.check_schema(entity)
        t = self.table(entity)
        names = list(entity.fields)
        stmt = sa.select(*[t.c[entity.fields[n].column] for n in names])
        where = f"{self.spec.system}.{entity.table}"
        pk_pos = [names.index(k) for k in entity.primary_key]
        batches, quarantined, rows_read = [], [], 0
        try:
            with self.engine().connect() as con:
                result = con.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(stmt)
                for chunk in result.partitions(CHUNK_ROWS):
                    rows_read += len(chunk)
                    cols = list(zip(*chunk))
                    labels = ["|".join("" if r[p] is None else str(r[p]) for p in pk_pos) or f"row {rows_read - len(chunk) + i + 1}"
                              for i, r in enumerate(chunk)]
                    arrays, bad = coerce(entity, dict(zip(names, map(list, cols))), labels, where)
                    quarantined += bad
                    batches.append(pa.table(arrays))
        except sa.exc.DBAPIError as e:
            raise SourceError(f"{self.spec.system}: reading {entity.table} from {self.safe_url} failed: "
                              f"{type(e.orig).__name__}: {e.orig}") from None
        if batches:
            table = pa.concat_tables(batches)
        else:
            table = pa.table({n: pa.array([], type=ARROW_TYPES[entity.fields[n].type]) for n in names})
        return Extract(table=table, rows_read=rows_read, quarantined=quarantined, source=f"{self.safe_url} {entity.table}")
