"""Compacting the warehouse (warehouse/compact.py): the new file holds every table, view and macro as the old one did,
is smaller when the old one held free blocks, and takes its place only then; what was recorded of the old file is
carried to the new one."""

import json

import pytest

import warehouse.compact as compact_module
from model.settings import Settings
from warehouse import db
from warehouse.backup import _sound
from warehouse.compact import compact, compact_warehouse, due, free_share
from warehouse.db import WarehouseError


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with db.connect(path) as con:
        db.init(con)
        for n in (400_000, 300_000, 200_000, 50_000):  # each replacement frees the blocks of the one before
            con.execute(
                f"create or replace table core.big as select range as id, md5(range::varchar) as v from range({n})"
            )
            con.execute("checkpoint")
        con.execute("create view staging.small as select id from core.big where id < 10")
        con.execute("insert into audit.batch values (1, 'hr', 'x', now(), now(), 'committed')")
    return path


def contents(path) -> dict:
    """Every table's row count and sum of row hashes, and every view's rows, measured here on the file."""
    with db.connect(path, read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables() order by all").fetchall()
        out = {
            f"{s}.{t}": con.execute(f'select count(*), sum(hash(x)::hugeint) from "{s}"."{t}" as x').fetchone()
            for s, t in tables
        }
        out["view staging.small"] = con.execute("select list(id order by id) from staging.small").fetchone()
        macros = "select count(*) from duckdb_functions() where function_name = 'code_name' and schema_name = 'core'"
        out["macro core.code_name"] = con.execute(macros).fetchone()
    return out


def test_the_compacted_file_is_smaller_and_holds_the_same(warehouse):
    before, size = contents(warehouse), warehouse.stat().st_size
    share = free_share(warehouse)
    assert share > 0.5  # most of the file is what the replaced tables left
    done = compact(warehouse)
    assert done.before_bytes == size and done.after_bytes == warehouse.stat().st_size < size / 2
    assert done.free_share == pytest.approx(share)
    assert contents(warehouse) == before
    assert free_share(warehouse) < 0.1
    assert not list(warehouse.parent.glob("*.compacting*"))
    with db.connect(warehouse) as con:  # still a warehouse a run can write
        db.init(con)
        con.execute("insert into audit.batch values (2, 'hr', 'x', now(), now(), 'committed')")


def test_a_copy_that_differs_leaves_the_warehouse_as_it_was(warehouse, monkeypatch):
    stamp, before = db.file_stamp(warehouse), contents(warehouse)
    monkeypatch.setattr(compact_module, "_differing", lambda con, source: ["core.big"])
    with pytest.raises(WarehouseError, match="differs from the warehouse in core.big; the warehouse is left as it was"):
        compact(warehouse)
    assert db.file_stamp(warehouse)[0] == stamp[0] and contents(warehouse) == before
    assert not list(warehouse.parent.glob("*.compacting*"))


def test_what_was_recorded_of_the_file_is_carried_to_the_new_one(warehouse, tmp_path):
    settings = Settings.from_env({"STATEDATA_HOME": str(tmp_path)})
    assert settings.warehouse == warehouse
    stamp = db.file_stamp(warehouse)
    state = tmp_path / "state"
    state.mkdir()
    (state / "warehouse.json").write_text(json.dumps({"stamp": stamp, "fingerprint": "f"}), encoding="utf-8")
    (state / "contents.json").write_text(json.dumps({"stamp": [1, 2], "tables": []}), encoding="utf-8")  # of another
    (tmp_path / "state" / "left.compacting").write_text("x")  # not ours: left alone
    compact_warehouse(settings)
    now = db.file_stamp(warehouse)
    assert now != stamp
    assert json.loads((state / "warehouse.json").read_text(encoding="utf-8")) == {"stamp": now, "fingerprint": "f"}
    assert json.loads((state / "contents.json").read_text(encoding="utf-8"))["stamp"] == [1, 2]  # still another's
    assert _sound(settings.backups_dir) == now  # read whole to compare: the next run need not read it again


def test_a_run_compacts_when_the_free_share_reaches_the_setting(tmp_path):
    def settings(value):
        return Settings.from_env({"STATEDATA_HOME": str(tmp_path), "STATEDATA_COMPACT_FREE": value})

    assert settings("20").compact_free == 0.2
    assert not due(settings("20"), 0.19) and due(settings("20"), 0.2) and due(settings("0"), 0.0)
    assert not due(settings("100"), 1.0)  # never
    with pytest.raises(Exception, match="STATEDATA_COMPACT_FREE='120'"):
        settings("120").compact_free
