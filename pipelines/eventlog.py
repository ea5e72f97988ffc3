"""Dagster's SQLite event log, with one database engine per database file instead of one per event.

Dagster's own SqliteEventLogStorage creates and disposes of a SQLAlchemy engine for every connection it opens:
a run of the nightly job stores about a thousand events (each planned and each finished materialization and
check, each step output), many of them twice (the run's database and the index), so that came to some 3,000
engines and 3 to 6 seconds a run. This class keeps one engine per database file for the life of the process.
The engine has no pool (NullPool, as Dagster's): each use still opens its own SQLite connection, under the same
lock, so the files, their locking and what other processes (`statedata dev`) see are exactly Dagster's.

Each connection sets ``synchronous=NORMAL`` (``_no_sync_per_commit``). The run history's dagster.yaml names the
class (pipelines/cli/common.py); tests/unit/test_eventlog.py checks that a run's events are stored and read back
through it, so a Dagster release that changes the storage's internals fails there, not in a user's run.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool


class SqliteEventLog(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data=None):
        self.engines: dict[str, Engine] = {}  # before Dagster's __init__, which opens the index
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "SqliteEventLog":
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self.engines.get(shard)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=NullPool,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
                event.listen(engine, "connect", _no_sync_per_commit)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self.engines[shard] = engine
            with engine.connect() as conn, conn.begin():
                yield conn


def _no_sync_per_commit(dbapi_connection, _record) -> None:
    """The files are in WAL mode (Dagster sets it): with synchronous=NORMAL a commit is not flushed to disk on its
    own, only at checkpoints. A crash of the process loses nothing; a power cut may lose the last events of a run,
    never the file. About 0.3 ms less per event, a thousand events a run."""
    dbapi_connection.execute("pragma synchronous=NORMAL")
