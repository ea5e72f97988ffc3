"""Dagster's SQLite event log, with one database engine and one open connection per database file.

Dagster's own SqliteEventLogStorage creates and disposes of a SQLAlchemy engine, and opens and closes a SQLite
connection, for every use: a run of the nightly job stores about a thousand events (each planned and each finished
materialization and check, each step output), many of them twice (the run's database and the index). Closing the
last connection to a database in WAL mode also checkpoints it, so every event cost an engine, a connection and a
checkpoint: 6 to 10 seconds of a run on the ``small`` demo. This class keeps, for the life of the process, one
engine per file with one connection in its pool, used under Dagster's lock, and checkpoints a file at most once a
second (``CHECKPOINT_SECONDS``; a write within the second is checkpointed when it ends) so that the .db file, which
`statedata dev` watches to show a run's events as they come, changes within a second of each event. Each
connection sets ``synchronous=NORMAL`` (``_no_sync_per_commit``). Dagster also asks, before storing an asset or
check event, whether a table or a column of the index exists, each time with a new engine (about 1 s of a `large`
run); migrations add tables and columns and never drop one, so what has been seen once is not asked again. The
files, their format and what other processes read are Dagster's.

The run history's dagster.yaml names the class (pipelines/cli/common.py); tests/unit/test_eventlog.py checks that a
run's events are stored, read back and seen by a watcher through it, so a Dagster release that changes the
storage's internals fails there, not in a user's run.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

CHECKPOINT_SECONDS = 1.0
OPEN_FILES = 8  # runs' files kept open besides the index; the least recently used is closed


class SqliteEventLog(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data=None):
        self.engines: dict[str, Engine] = {}  # before Dagster's __init__, which opens the index
        self.checkpointed: dict[str, float] = {}  # shard -> when its file was last checkpointed
        self.pending: dict[str, threading.Timer] = {}  # shard -> its checkpoint a second after the last one
        self.seen: set[tuple[str, str]] = set()  # (table, column or '') of the index known to exist
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "SqliteEventLog":
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self.engines.get(shard)
            if engine is None:
                engine = create_engine(  # one connection kept open, used under Dagster's lock
                    self.conn_string_for_shard(shard),
                    poolclass=QueuePool,
                    pool_size=1,
                    max_overflow=-1,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                )
                event.listen(engine, "connect", _no_sync_per_commit)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self.engines[shard] = engine
                for old in [s for s in self.engines if s != "index"][:-OPEN_FILES]:  # this one is the last
                    self._close(old)  # a long-lived process (`statedata dev`) reads many runs' files
            else:
                self.engines[shard] = self.engines.pop(shard)  # the most recently used last
            with engine.connect() as conn, conn.begin():
                yield conn
            # the events into the .db file, which `statedata dev` watches: now, or a second after the last time
            if time.monotonic() - self.checkpointed.get(shard, 0.0) >= CHECKPOINT_SECONDS:
                self._checkpoint_locked(shard)
            elif shard not in self.pending:
                self.pending[shard] = threading.Timer(CHECKPOINT_SECONDS, self._checkpoint, (shard,))
                self.pending[shard].daemon = True
                self.pending[shard].start()

    def has_table(self, table_name: str) -> bool:
        if (table_name, "") not in self.seen:
            if not super().has_table(table_name):
                return False
            self.seen.add((table_name, ""))
        return True

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        if ("asset_keys", column_name) not in self.seen:
            if not super()._has_asset_key_col_on_connection(conn, column_name):
                return False
            self.seen.add(("asset_keys", column_name))
        return True

    def _checkpoint(self, shard: str) -> None:
        with self._db_lock:  # Dagster's lock is not reentrant
            self._checkpoint_locked(shard)

    def _checkpoint_locked(self, shard: str) -> None:
        timer = self.pending.pop(shard, None)
        if timer is not None:
            timer.cancel()
        engine = self.engines.get(shard)
        if engine is None:  # disposed of meanwhile
            return
        with engine.connect() as conn:
            conn.exec_driver_sql("pragma wal_checkpoint(PASSIVE)")
        self.checkpointed[shard] = time.monotonic()

    def _close(self, shard: str) -> None:
        timer = self.pending.pop(shard, None)
        if timer is not None:
            timer.cancel()
        self.engines.pop(shard).dispose()  # closing the last connection checkpoints the file

    def dispose(self) -> None:
        with self._db_lock:
            for shard in list(self.engines):
                self._close(shard)
        super().dispose()


def _no_sync_per_commit(dbapi_connection, _record) -> None:
    """The files are in WAL mode (Dagster sets it): with synchronous=NORMAL a commit is not flushed to disk on its
    own, only at checkpoints. A crash of the process loses nothing; a power cut may lose the last events of a run,
    never the file. About 0.3 ms less per event, a thousand events a run."""
    dbapi_connection.execute("pragma synchronous=NORMAL")
