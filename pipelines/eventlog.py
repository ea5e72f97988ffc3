"""Dagster's SQLite event log, with one database engine per database file instead of one per event.

Dagster's own SqliteEventLogStorage creates and disposes of a SQLAlchemy engine for every connection it opens:
a run of the nightly job stores about a thousand events (each planned and each finished materialization and
check, each step output), many of them twice (the run's database and the index), so that came to some 3,000
engines and 3 to 6 seconds a run. This class keeps one engine per database file for the life of the process.
The engine has no pool (NullPool, as Dagster's): each use still opens its own SQLite connection, under the same
lock, so the files, their locking and what other processes (`statedata dev`) see are exactly Dagster's.

The run history's dagster.yaml names it (pipelines/cli/common.py); tests/unit/test_eventlog.py checks that a
run's events are stored and read back through it, so a Dagster release that changes the storage's internals
fails there, not in a user's run.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage
from sqlalchemy import create_engine
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
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self.engines[shard] = engine
            with engine.connect() as conn, conn.begin():
                yield conn
