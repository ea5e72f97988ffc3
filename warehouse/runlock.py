"""One statedata process at a time per working folder: runs however they are launched, backups, restores.

An advisory lock on STATEDATA_HOME/run.lock, held for the whole of the work. `statedata run`, backup, restore
and package take it around what they do; every Dagster run takes it while its `statedata` resource is set up
(assets/resources.py), so a run launched from the UI, re-executed, or submitted by the schedule or a sensor is
covered too. A second comer is refused at once with a clear message naming the holder (or waits, with wait).
The lock file says who holds it.

Reentrant within a process: `statedata run` holds the lock while it executes its job in process, and the job's
resource asks for it again. A flock belongs to an open file, so a second open of the same file in the same
process would conflict with the first; the locks this process holds are tracked here instead.
"""

import fcntl
import os
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

RETRY_HINT = "try again when it has finished"

_held: dict[Path, str] = {}  # lock file -> what holds it, for the locks this process holds


class Busy(RuntimeError):
    pass


@contextmanager
def run_lock(home: Path, what: str, wait: bool = False, hint: str = RETRY_HINT):
    home.mkdir(parents=True, exist_ok=True)
    path = (home / "run.lock").resolve()
    if path in _held:  # this process holds it already (a `statedata run` executing its job): nothing more to take
        yield
        return
    with path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise Busy(f"{home} is in use by {holder}; {hint}") from None
        f.seek(0)
        f.truncate()
        f.write(f"statedata {what} (pid {os.getpid()}, since {datetime.now():%Y-%m-%d %H:%M:%S})")
        f.flush()
        _held[path] = what
        try:
            yield
        finally:
            del _held[path]
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)
