"""Client for campus systems that live in a SQL database reachable through SQLAlchemy.

The same client works for SQLite (the embedded demo), PostgreSQL, MySQL/MariaDB, SQL Server and
Oracle. Schema checks use SQLAlchemy reflection. Rows are read by ConnectorX straight into Arrow
(about 1.5 M rows/s on SQLite here, 6-9x the SQLAlchemy cursor path; see scripts/bench_extract.py);
when ConnectorX cannot read a table, or a value does not fit its declared type, the table is read
again through SQLAlchemy Core in chunks, where each bad value is quarantined with its row key.
"""

from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from connectors.base import ARROW_TYPES, Extract, SourceError, coerce, file_sha256
from model.mapping import EntitySpec, SourceSpec

CHUNK_ROWS = 100_000
# SQLAlchemy backend -> ConnectorX URL scheme (the drivers differ; the URL parts are the same)
_CX_SCHEMES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "mssql",
    "oracle": "oracle",
}

# Which reflected SQL types are acceptable for each declared field type. Any column reads as text (integer and
# boolean codes are translated as their text: 1, true); a date may be held as DATE, TIMESTAMP, text or 20230901.
_COMPATIBLE = {
    "string": (sa.types.TypeEngine,),
    "integer": (sa.Integer, sa.Boolean),
    "decimal": (sa.Integer, sa.Numeric, sa.Float),
    "date": (sa.Date, sa.DateTime, sa.String, sa.Text, sa.Integer),
}


# what a driver says of a file or a database that will not read the same way until someone acts
_PERMANENT = ("not a database", "malformed", "file is encrypted", "no such table", "access denied", "authentication")


def transient(e: sa.exc.DBAPIError) -> bool:
    """Worth retrying: a connection that dropped or a server restarting, not a damaged or wrong database file,
    a missing table or refused credentials."""
    if not isinstance(e, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return False
    return not any(p in str(e.orig).lower() for p in _PERMANENT)


def parse_url(url: str) -> URL:
    """A SQLAlchemy URL, read so that the password may hold any character: the user information ends at the
    last @ (a host never holds one), so an unencoded @, : or / in a password is the password's, not the host's.
    Percent-encoded characters are decoded as usual."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return make_url(url)
    userinfo, _, hostpart = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return make_url(f"{scheme}://{hostpart}").set(
        username=unquote(user) or None, password=unquote(password) if colon else None
    )


def redact(url: str) -> str:
    """The URL as it may appear in messages and logs: no password, whatever characters it holds."""
    try:
        return parse_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown as its scheme only
        return url.split(":", 1)[0] + "://…"


def redact_text(text: str, url: str) -> str:
    """``text`` with the URL's password, if any, replaced: an error message may quote the URL it could not use."""
    try:
        password = parse_url(url).password
    except Exception:  # unparseable: drop everything between :// and the last @, where a password would be
        scheme, sep, rest = url.partition("://")
        password = rest.rpartition("@")[0] if sep and "@" in rest else None
    return text.replace(password, "***") if password else text


def _postgresql_probe(table: str, columns: list[str]) -> str:
    digest = f"md5(row({', '.join(columns)})::text)"
    return f"select count(*), coalesce(sum(('x' || substr({digest}, 1, 15))::bit(60)::bigint), 0) from {table}"


def _mysql_probe(table: str, columns: list[str]) -> str:
    values = ", ".join(f"coalesce(cast({c} as char), char(0))" for c in columns)  # NULL apart from ''
    digest = f"md5(concat_ws(char(31), {values}))"
    return f"select count(*), coalesce(sum(cast(conv(substr({digest}, 1, 15), 16, 10) as unsigned)), 0) from {table}"


# backend -> the query of a table's row count and the sum of a 60-bit hash of each row (SqlSource.probe)
_PROBES = {"postgresql": _postgresql_probe, "mysql": _mysql_probe, "mariadb": _mysql_probe}


class SqlSource:
    def __init__(self, spec: SourceSpec, url: str):
        self.spec = spec
        self.url = url
        self.safe_url = redact(url)
        self.location = self.safe_url
        self._engine: sa.Engine | None = None
        self._tables: dict[str, sa.Table] = {}
        self._file_digest: str | None = None  # SQLite: the database file's, shared by its tables

    # -- connection ------------------------------------------------------------------------------
    def engine(self) -> sa.Engine:
        if self._engine is None:
            try:
                self._engine = self._create_engine()
            except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError, ValueError) as e:
                raise SourceError(  # fails the same way until someone acts: not retried
                    f"source '{self.spec.system}': {self.spec.env} is not a usable SQLAlchemy URL "
                    f"({self.safe_url}): {type(e).__name__}: {redact_text(str(e), self.url)}"
                ) from None
        return self._engine

    def _create_engine(self) -> sa.Engine:
        """An engine for the URL (no connection yet); a bad URL, an unknown database type or a driver that is not
        installed raise here."""
        url = parse_url(self.url)
        if url.get_backend_name() == "sqlite":
            db = url.database
            if not db or db == ":memory:" or not Path(db).is_file():
                raise SourceError(
                    f"source database for system '{self.spec.system}' not found: {db} "
                    f"(set {self.spec.env} to its SQLAlchemy URL, or run `statedata demo` for the demo campus)"
                )
            # open read-only: a wrong path must never create an empty database
            return sa.create_engine(f"sqlite:///file:{Path(db).resolve()}?mode=ro&uri=true")
        return sa.create_engine(url, pool_pre_ping=True)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _failed(self, doing: str, e: sa.exc.DBAPIError) -> SourceError:
        """A database error while ``doing`` something with the source, named without the password; retried when
        the connection may come back."""
        return SourceError(
            f"{self.spec.system}: {doing} {self.safe_url} failed: {type(e.orig).__name__}: {e.orig}",
            transient=transient(e),
        )

    # -- schema ----------------------------------------------------------------------------------
    def table(self, entity: EntitySpec) -> sa.Table:
        if entity.table not in self._tables:
            try:
                self._tables[entity.table] = sa.Table(entity.table, sa.MetaData(), autoload_with=self.engine())
            except sa.exc.NoSuchTableError:
                raise SourceError(
                    f"{self.spec.system}: table {entity.table} not found in {self.safe_url} "
                    f"(mapping {self.spec.path}, entity {entity.name})"
                ) from None
            except sa.exc.DBAPIError as e:  # unreachable (retried), or not a database at all (not retried)
                raise SourceError(
                    f"{self.spec.system}: cannot read {self.safe_url}: {e.orig}", transient=transient(e)
                ) from None
        return self._tables[entity.table]

    def check_schema(self, entity: EntitySpec) -> None:
        """Fail with a precise message if a mapped column is missing or has an incompatible type."""
        t = self.table(entity)
        for f in entity.fields.values():
            if f.column not in t.c:
                raise SourceError(
                    f"{self.spec.system}: column {entity.table}.{f.column} (field {f.name}) not found; "
                    f"the table has {', '.join(c.name for c in t.c)} (mapping {self.spec.path})"
                )
            found = t.c[f.column].type
            if isinstance(found, sa.types.NullType):
                continue  # SQLite columns without a declared type: checked value by value
            if not isinstance(found, _COMPATIBLE[f.type]):
                raise SourceError(
                    f"{self.spec.system}: column {entity.table}.{f.column} changed type: expected {f.type} "
                    f"(field {f.name} in {self.spec.path}), found {found}"
                )

    # -- change probe ----------------------------------------------------------------------------
    def probe(self, entity: EntitySpec) -> str | None:
        """A fingerprint of the entity's rows (``Source.probe``): for SQLite the SHA-256 of the database file (and
        of its write-ahead log), for PostgreSQL and MySQL/MariaDB the row count and the sum of a 60-bit hash of
        every row's mapped columns, computed by the server; None for other databases."""
        url = parse_url(self.url)
        backend = url.get_backend_name()
        if backend == "sqlite":
            if self._file_digest is None:
                self.engine()  # a missing file is a SourceError here
                db = Path(url.database)
                wal = db.with_name(db.name + "-wal")
                self._file_digest = file_sha256(db) + (f"+{file_sha256(wal)}" if wal.exists() else "")
            return self._file_digest
        sql = _PROBES.get(backend)
        if sql is None:
            return None
        self.check_schema(entity)
        quote = self.engine().dialect.identifier_preparer
        columns = [quote.quote(entity.fields[n].column) for n in entity.fields]
        query = sql(quote.format_table(self.table(entity)), columns)
        try:
            with self.engine().connect() as con:
                count, total = con.execute(sa.text(query)).one()
        except sa.exc.DBAPIError as e:
            raise self._failed(f"probing {entity.table} in", e) from None
        return f"{count}:{total}"

    # -- extraction ------------------------------------------------------------------------------
    def extract(self, entity: EntitySpec, since: str | None = None) -> Extract:
        """All rows, or with ``since`` only those whose change column is at or after it (incremental)."""
        self.check_schema(entity)
        fast = self._extract_connectorx(entity, since)
        return fast if fast is not None else self._extract_sqlalchemy(entity, since)

    def extract_keys(self, entity: EntitySpec) -> Extract:
        """Only the primary-key columns of every row: what an incremental load needs to see deletions."""
        keys = {k: entity.fields[k] for k in entity.primary_key}
        return self.extract(replace(entity, fields=keys, translate={}, change_column=None))

    def _select(self, entity: EntitySpec, since: str | None, labels: bool) -> sa.Select:
        t = self.table(entity)
        cols = [t.c[entity.fields[n].column] for n in entity.fields]
        stmt = sa.select(*[c.label(n) for c, n in zip(cols, entity.fields)] if labels else cols)
        if since is not None and entity.change_column:
            stmt = stmt.where(t.c[entity.change_column] >= since)  # >=: rows written in the same second again
        return stmt

    def _connectorx_url(self) -> str | None:
        url = parse_url(self.url)
        scheme = _CX_SCHEMES.get(url.get_backend_name())
        if scheme is None:
            return None
        if scheme == "sqlite":
            return f"sqlite://{Path(url.database).resolve()}"
        return url.set(drivername=scheme).render_as_string(hide_password=False)

    def _extract_connectorx(self, entity: EntitySpec, since: str | None = None) -> Extract | None:
        """Arrow straight from the database; None when this path cannot give an exact answer."""
        try:
            import connectorx as cx
        except ImportError:
            return None
        url = self._connectorx_url()
        if url is None:
            return None
        names = list(entity.fields)
        stmt = self._select(entity, since, labels=True)
        query = str(stmt.compile(self.engine(), compile_kwargs={"literal_binds": True}))
        try:
            table = cx.read_sql(url, query, return_type="arrow")
            table = table.select(names).cast(pa.schema([(n, ARROW_TYPES[entity.fields[n].type]) for n in names]))
        except Exception:  # a value of another type, or a driver limitation: take the exact path
            return None
        keyless = None
        for k in entity.primary_key:
            col = table.column(k)
            empty = pc.or_kleene(pc.is_null(col), pc.equal(pc.cast(col, pa.string()), ""))
            keyless = empty if keyless is None else pc.or_(keyless, empty)
        quarantined = []
        if keyless is not None and pc.any(keyless).as_py():
            where = f"{self.spec.system}.{entity.table}"
            cols = ", ".join(entity.fields[k].column for k in entity.primary_key)
            positions = pc.indices_nonzero(pc.fill_null(keyless, True)).to_pylist()
            quarantined = [
                dict(
                    source=where,
                    key=f"row {i + 1}",
                    column=cols,
                    value=None,
                    reason=f"primary key {cols} is empty: the row cannot be identified",
                )
                for i in positions
            ]
            table = table.filter(pc.invert(pc.fill_null(keyless, True)))
        return Extract(
            table=table,
            rows_read=table.num_rows + len(quarantined),
            quarantined=quarantined,
            source=f"{self.safe_url} {entity.table}",
        )

    def _extract_sqlalchemy(self, entity: EntitySpec, since: str | None = None) -> Extract:
        names = list(entity.fields)
        stmt = self._select(entity, since, labels=False)
        where = f"{self.spec.system}.{entity.table}"
        pk_pos = [names.index(k) for k in entity.primary_key]
        batches, quarantined, rows_read = [], [], 0
        try:
            with self.engine().connect() as con:
                result = con.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(stmt)
                for chunk in result.partitions(CHUNK_ROWS):
                    rows_read += len(chunk)
                    cols = list(zip(*chunk))
                    labels = [
                        "|".join("" if r[p] is None else str(r[p]) for p in pk_pos)
                        or f"row {rows_read - len(chunk) + i + 1}"
                        for i, r in enumerate(chunk)
                    ]
                    arrays, bad = coerce(entity, dict(zip(names, map(list, cols))), labels, where)
                    quarantined += bad
                    batches.append(pa.table(arrays))
        except sa.exc.DBAPIError as e:
            raise self._failed(f"reading {entity.table} from", e) from None
        if batches:
            table = pa.concat_tables(batches)
        else:
            table = pa.table({n: pa.array([], type=ARROW_TYPES[entity.fields[n].type]) for n in names})
        return Extract(
            table=table, rows_read=rows_read, quarantined=quarantined, source=f"{self.safe_url} {entity.table}"
        )
