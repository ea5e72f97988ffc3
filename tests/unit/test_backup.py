"""Backups are proved readable to the last block, and restore trusts none that is not (issue 14, finding 3:
`statedata restore` used to report success on a backup with unreadable tables)."""

import pytest

import warehouse.backup as backup_module
from connectors.base import file_sha256
from warehouse import db, offload
from warehouse.backup import backup, backups, check_usable, restore
from warehouse.db import WarehouseError


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with db.connect(path) as con:
        db.init(con)
        con.execute("create table core.big as select range as id, md5(range::varchar) as v from range(300000)")
        con.execute("insert into audit.batch values (1, 'hr', 'x', now(), now(), 'committed')")
    return path


def damage(path, at: float = 0.6):
    """Overwrite 4 KiB in the middle of the file (a data block, not the header)."""
    data = bytearray(path.read_bytes())
    start = int(len(data) * at)
    data[start : start + 4096] = b"\xa5" * 4096
    path.write_bytes(bytes(data))


def test_a_good_backup_restores(warehouse, tmp_path):
    made = backup(warehouse, tmp_path / "backups")
    assert made.with_suffix(".sha256").exists()
    warehouse.unlink()
    assert restore(warehouse, tmp_path / "backups") == made and warehouse.exists()


@pytest.mark.parametrize("checksum_file", [True, False])
def test_a_damaged_backup_is_not_restored(warehouse, tmp_path, checksum_file):
    made = backup(warehouse, tmp_path / "backups")
    damage(made)
    if not checksum_file:  # an older backup without its checksum: the full read finds the damage
        made.with_suffix(".sha256").unlink()
    with pytest.raises(WarehouseError, match="no readable backup"):
        restore(warehouse, tmp_path / "backups")
    assert backups(tmp_path / "backups") == [made]  # kept for inspection, not put in place


def test_a_damaged_warehouse_stops_the_run_with_the_restore_command(warehouse, tmp_path):
    backup(warehouse, tmp_path / "backups")
    damage(warehouse, at=0.5)
    with pytest.raises(WarehouseError, match="statedata restore"):
        check_usable(warehouse, tmp_path / "backups")


def test_a_copy_a_killed_backup_left_is_removed_by_the_next_backup(warehouse, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    left = folder / "warehouse-20260101T000000000000Z.partial"
    left.write_bytes(b"half a copy")
    made = backup(warehouse, folder)
    assert not left.exists() and sorted(p.name for p in folder.iterdir()) == sorted(
        [made.name, made.with_suffix(".sha256").name, backup_module.SOUND]
    )


def test_a_warehouse_as_its_newest_backup_copied_it_is_not_read_again(warehouse, tmp_path, monkeypatch):
    """That copy was read to its last block when it was made; once the file changes, it is read before a run."""
    backup(warehouse, tmp_path / "backups")
    reads = []
    verify = backup_module._verify
    monkeypatch.setattr(backup_module, "_verify", lambda path: reads.append(path) or verify(path))
    check_usable(warehouse, tmp_path / "backups")
    assert reads == []
    with db.connect(warehouse) as con:  # a run wrote it since
        con.execute("insert into audit.batch values (2, 'hr', 'x', now(), now(), 'committed')")
    check_usable(warehouse, tmp_path / "backups")
    assert reads == [warehouse]
    damage(warehouse, at=0.5)
    with pytest.raises(WarehouseError, match="statedata restore"):
        check_usable(warehouse, tmp_path / "backups")


def test_a_few_rows_written_into_a_warehouse_known_whole_do_not_call_for_a_whole_read(warehouse, tmp_path, monkeypatch):
    """A night with nothing changed writes its confirmations (pipelines/nochange.py) and vouches for the file: when
    it found the file known whole, the next run does not read it whole; when it did not, or something else wrote
    the file after it, the next run does."""
    folder = tmp_path / "backups"
    reads = []
    verify = backup_module._verify
    monkeypatch.setattr(backup_module, "_verify", lambda path: reads.append(path) or verify(path))

    def night():
        before = db.file_stamp(warehouse)
        with db.connect(warehouse) as con:
            con.execute("insert into audit.batch values (3, 'hr', 'x', now(), now(), 'committed')")
            con.execute("delete from audit.batch where batch_id = 3")
        backup_module.vouch(warehouse, folder, before)

    night()  # no backup, never read: nothing to vouch for
    check_usable(warehouse, folder)
    assert reads == [warehouse]  # read, and now known whole
    night()
    check_usable(warehouse, folder)
    assert reads == [warehouse]
    with offload.inline():  # the file is read here as it is copied, by the patched reader
        backup(warehouse, folder)
    assert reads == [warehouse, warehouse]
    night()
    check_usable(warehouse, folder)
    assert reads == [warehouse, warehouse]
    with db.connect(warehouse) as con:  # a writer that vouches for nothing
        con.execute("insert into audit.batch values (4, 'hr', 'x', now(), now(), 'committed')")
    night()  # found the file not known whole: its vouch carries nothing
    check_usable(warehouse, folder)
    assert reads == [warehouse] * 3
    night()
    damage(warehouse, at=0.5)  # decay after the night, the file's time changed with it
    with pytest.raises(WarehouseError, match="statedata restore"):
        check_usable(warehouse, folder)


@pytest.mark.parametrize("where", ["second process", "here"])
def test_a_damaged_warehouse_is_not_backed_up(warehouse, tmp_path, where):
    """The warehouse is read whole while it is copied (in the second process, warehouse/offload.py, or here): the
    copy of a file that does not read to its last block is not kept."""
    from contextlib import nullcontext

    damage(warehouse, at=0.5)
    with offload.inline() if where == "here" else nullcontext():
        with pytest.raises(WarehouseError, match="not readable to its last block, no backup made"):
            backup(warehouse, tmp_path / "backups")
    assert list((tmp_path / "backups").iterdir()) == []


def test_a_copy_cut_short_leaves_nothing_and_the_warehouse_free(warehouse, tmp_path, monkeypatch):
    made = backup(warehouse, tmp_path / "backups")
    assert made.with_suffix(".sha256").read_text(encoding="utf-8") == file_sha256(made)  # of the bytes written

    def cut_short(source, target):
        target.write_bytes(source.read_bytes()[: 256 << 10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup_module, "_copy", cut_short)
    with pytest.raises(OSError, match="No space"):
        backup(warehouse, tmp_path / "backups")
    monkeypatch.undo()
    assert backups(tmp_path / "backups") == [made] and not list((tmp_path / "backups").glob("*.partial"))
    with db.connect(warehouse) as con:  # the second process's read of it has ended with the call
        con.execute("insert into audit.batch values (2, 'hr', 'x', now(), now(), 'committed')")
