"""One statedata process at a time per working folder (runs, backups, restores).

An advisory lock on STATEDATA_HOME/run.lock: a second `statedata run` refuses at once with a clear
message (or waits, with --wait). The lock file says who holds it. DuckDB's own file lock still
guarantees a single writer for runs launched another way (the Dagster UI, the daemon).
"""

import fcntl
import os
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path


class Busy(RuntimeError):
    pass


@contextmanager
def run_lock(home: Path, what: str, wait: bool = False):
    home.mkdir(parents=True, exist_ok=True)
    path = home / "run.lock"
    with path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise Busy(f"{home} is in use by {holder}; try again when it has finished, or pass --wait") from None
        f.seek(0)
        f.truncate()
        f.write(f"statedata {what} (pid {os.getpid()}, since {datetime.now():%Y-%m-%d %H:%M:%S})")
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)
