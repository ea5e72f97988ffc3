"""Backups of the warehouse file, with retention, and restoring the newest good one.

A backup is a copy of the DuckDB file taken while no connection is open (after a CHECKPOINT). While it is copied,
the file is read to its last block in the second process to prove it usable (a copy of a damaged file is not kept),
and the SHA-256 of the bytes written is taken here and kept beside the copy (``.sha256``): restore trusts a copy only
if it still has that checksum and still reads. The warehouse itself is read the same way before every run that
computes (check_usable), unless it is known whole as it is now (``sound.stamp`` in the backups folder: the size and
time of the file when a backup copied it or check_usable read it, carried on by the nights with nothing changed,
which write a few rows into a file so known; ``vouch``). A night with nothing changed, which needs the file as the
last run left it, reads only the tables it uses. Names sort by time: ``warehouse-20261124T020512Z.duckdb``.
"""

import hashlib
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from connectors.base import file_sha256
from warehouse import offload
from warehouse.db import WarehouseBusy, WarehouseError, connect, file_stamp

PREFIX = "warehouse-"
COPY_BLOCK = 8 << 20
SOUND = "sound.stamp"  # the warehouse's size and modification time when it was last known whole


def backups(folder: Path) -> list[Path]:
    """Existing backups, oldest first."""
    return sorted(Path(folder).glob(f"{PREFIX}*.duckdb"))


def _verify(path: Path) -> int:
    """Open a warehouse file read-only and read every block of every table (DuckDB checks each block's checksum
    as it reads it, so damage anywhere raises). Returns the batch count; raises duckdb.Error if anything is
    unreadable."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where not temporary order by all"
        ).fetchall()
        for schema, table in tables:
            # every column of every row is hashed, so every block is read; max() is the cheapest way to keep them
            con.execute(f'select max(hash(t)) from "{schema}"."{table}" as t').fetchall()
        return con.execute("select count(*) from audit.batch").fetchall()[0][0]


def backup(warehouse: Path, folder: Path, keep: int = 7) -> Path:
    """Copy the warehouse into ``folder`` and delete all but the newest ``keep`` backups."""
    warehouse, folder = Path(warehouse), Path(folder)
    if not warehouse.exists():
        raise WarehouseError(f"nothing to back up: {warehouse} does not exist")
    with connect(warehouse) as con:
        con.execute("checkpoint")  # everything in the main file, nothing left in the WAL
    source = file_stamp(warehouse)  # the file as copied (the caller holds the folder's lock: nothing writes it now)
    folder.mkdir(parents=True, exist_ok=True)
    for left in folder.glob(f"{PREFIX}*.partial"):  # a copy a killed backup never finished
        left.unlink()
    target = folder / f"{PREFIX}{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}.duckdb"
    tmp = target.with_suffix(".partial")
    verified = offload.submit(_verify, warehouse)  # read whole there (read-only) while it is copied here
    try:
        try:
            digest = _copy(warehouse, tmp)
        finally:
            verified.result()  # also when the copy failed: that process's read ends before this call does
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, duckdb.Error):
            raise WarehouseError(f"{warehouse} is not readable to its last block, no backup made: {e}") from None
        raise
    target.with_suffix(".sha256").write_text(digest, encoding="utf-8")  # what restore checks first
    tmp.rename(target)
    mark_whole(folder, source)  # the file as it is was read to its last block
    for old in backups(folder)[:-keep] if keep > 0 else []:
        old.unlink()
        old.with_suffix(".sha256").unlink(missing_ok=True)
        old.with_suffix(".source").unlink(missing_ok=True)  # what an earlier version kept beside each backup
    return target


def _copy(source: Path, target: Path) -> str:
    """Copy a file; returns the SHA-256 of the bytes written, each block hashed in a thread (hashlib lets go of the
    GIL) while the one before is written."""
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as out, ThreadPoolExecutor(1) as hasher:
        hashed = None
        while block := src.read(COPY_BLOCK):
            if hashed is not None:
                hashed.result()
            hashed = hasher.submit(digest.update, block)
            out.write(block)
        if hashed is not None:
            hashed.result()
    return digest.hexdigest()


def _sound(folder: Path) -> list[int] | None:
    """The warehouse's stamp (warehouse/db.py file_stamp) when it was last known whole, if recorded."""
    try:
        return [int(v) for v in (Path(folder) / SOUND).read_text(encoding="utf-8").split()]
    except (OSError, ValueError):
        return None


def mark_whole(folder: Path, stamp: list[int] | None) -> None:
    """The warehouse was read to its last block with this stamp (warehouse/db.py file_stamp)."""
    if stamp is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / SOUND).write_text(" ".join(map(str, stamp)), encoding="utf-8")


def vouch(warehouse: Path, folder: Path, before: list[int] | None) -> None:
    """After a writer that found the warehouse known whole (its stamp ``before`` the one recorded) and wrote a few
    rows into it (a night with nothing changed; the caller holds the folder's lock): the file as it is now is known
    whole too. Its untouched blocks are those read before; the rest DuckDB has just written. The next run that
    computes then does not read it whole again."""
    if before is not None and before == _sound(folder):
        mark_whole(folder, file_stamp(warehouse))


def restore(warehouse: Path, folder: Path) -> Path:
    """Put the newest readable backup in place of the warehouse (the damaged file is kept aside)."""
    warehouse = Path(warehouse)
    for candidate in reversed(backups(folder)):
        recorded = candidate.with_suffix(".sha256")
        if recorded.exists() and recorded.read_text(encoding="utf-8").strip() != file_sha256(candidate):
            continue  # changed since it was written and verified: not a copy to trust
        try:
            _verify(candidate)
        except duckdb.Error:
            continue
        if warehouse.exists():
            aside = warehouse.with_name(f"{warehouse.name}.damaged-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}")
            warehouse.rename(aside)
        wal = warehouse.with_name(warehouse.name + ".wal")
        if wal.exists():
            wal.rename(wal.with_name(f"{wal.name}.damaged-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"))
        tmp = warehouse.with_name(warehouse.name + ".restoring")
        shutil.copyfile(candidate, tmp)
        tmp.rename(warehouse)
        return candidate
    raise WarehouseError(f"no readable backup in {folder}")


@contextmanager
def read_latest(warehouse: Path, folder: Path):
    """A read-only connection for readers (failures, trace, score): to the warehouse, or, while a run writes it,
    to the newest backup, which is the state after the last completed run. Yields ``(con, backup)``, where
    ``backup`` is the file read instead of the warehouse, or None."""
    with ExitStack() as stack:
        try:
            con, used = stack.enter_context(connect(warehouse, read_only=True)), None
        except WarehouseBusy as busy:
            if not backups(folder):
                raise WarehouseError(f"{busy}; no backup of a completed run exists yet to read instead") from None
            used = backups(folder)[-1]
            con = stack.enter_context(connect(used, read_only=True))
        yield con, used


def check_usable(warehouse: Path, folder: Path, always_read: bool = False) -> None:
    """Refuse to start on a warehouse that vanished or broke while backups of it exist. It is read to its last block,
    unless it is known whole as it is now (``sound.stamp``: a backup read it whole as it copied it, or it was read so,
    and since then only nights with nothing changed wrote it). A block that decayed since without the file's size or
    time changing is then found by the first query that reads it (``always_read``: the caller met such an error)."""
    warehouse = Path(warehouse)
    existing = backups(folder)
    if not warehouse.exists():
        if existing:
            raise WarehouseError(
                f"warehouse {warehouse} is missing, but backups exist (newest {existing[-1].name}): "
                f"run `statedata restore`, or delete {folder} to start an empty warehouse"
            )
        return
    stamp = file_stamp(warehouse)
    if not always_read and stamp is not None and stamp == _sound(folder):
        return
    try:
        _verify(warehouse)  # every block of every table: 0.7 s for the default demo's 150 MB
        mark_whole(folder, stamp)
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            return  # in use: the writer will report it with its own clear message
        raise _damaged(warehouse, existing, e) from None
    except duckdb.Error as e:
        raise _damaged(warehouse, existing, e) from None


def _damaged(warehouse: Path, existing: list[Path], e: Exception) -> WarehouseError:
    hint = (
        f"run `statedata restore` to bring back the newest backup ({existing[-1].name})"
        if existing
        else "no backup exists: move the file away to start an empty warehouse"
    )
    return WarehouseError(
        f"warehouse {warehouse} cannot be opened ({type(e).__name__}: {str(e).splitlines()[0]}); {hint}"
    )
