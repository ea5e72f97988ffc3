"""Backups of the warehouse file, with retention, and restoring the newest good one.

A backup is a copy of the DuckDB file taken while no connection is open (after a CHECKPOINT), then
opened read-only to prove it is usable. Names sort by time: ``warehouse-20261124T020512Z.duckdb``.
"""

import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from warehouse.db import WarehouseError, connect

PREFIX = "warehouse-"


def backups(folder: Path) -> list[Path]:
    """Existing backups, oldest first."""
    return sorted(Path(folder).glob(f"{PREFIX}*.duckdb"))


def _verify(path: Path) -> int:
    """Open a warehouse file read-only; return its batch count (raises if unusable)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select count(*) from audit.batch").fetchall()[0][0]


def backup(warehouse: Path, folder: Path, keep: int = 7) -> Path:
    """Copy the warehouse into ``folder`` and delete all but the newest ``keep`` backups."""
    warehouse, folder = Path(warehouse), Path(folder)
    if not warehouse.exists():
        raise WarehouseError(f"nothing to back up: {warehouse} does not exist")
    with connect(warehouse) as con:
        con.execute("checkpoint")  # everything in the main file, nothing left in the WAL
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{PREFIX}{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}.duckdb"
    tmp = target.with_suffix(".partial")
    shutil.copyfile(warehouse, tmp)
    try:
        _verify(tmp)
    except duckdb.Error as e:
        tmp.unlink(missing_ok=True)
        raise WarehouseError(f"backup of {warehouse} is not readable, not kept: {e}") from None
    tmp.rename(target)
    for old in backups(folder)[:-keep] if keep > 0 else []:
        old.unlink()
    return target


def restore(warehouse: Path, folder: Path) -> Path:
    """Put the newest readable backup in place of the warehouse (the damaged file is kept aside)."""
    warehouse = Path(warehouse)
    for candidate in reversed(backups(folder)):
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


def check_usable(warehouse: Path, folder: Path) -> None:
    """Refuse to start on a warehouse that vanished or broke while backups of it exist."""
    warehouse = Path(warehouse)
    existing = backups(folder)
    if not warehouse.exists():
        if existing:
            raise WarehouseError(
                f"warehouse {warehouse} is missing, but backups exist (newest {existing[-1].name}): "
                f"run `statedata restore`, or delete {folder} to start an empty warehouse"
            )
        return
    try:
        _verify(warehouse)
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
