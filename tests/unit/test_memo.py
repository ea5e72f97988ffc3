"""Table contents a run already knows (warehouse/memo.py): served while nothing wrote the table, measured again after
any write that says so, after a rollback, and for another database; carried to the next run only for the file as
that run left it. Under the test suite every content served is measured again (tests/conftest.py), so a writer that
does not say so fails a test."""

import json

import duckdb
import pytest

from warehouse import db, memo
from warehouse.builds import content
from warehouse.partition import rebuild_partition


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with db.connect(path) as con:
        db.init(con)
        con.execute("create table core.t as select range as id from range(10)")
        con.execute("create table core.u as select range as id from range(3)")
        con.execute("create view staging.v as select id from core.t where id < 5")
    return path


def test_a_content_is_served_until_its_table_is_written(warehouse, tmp_path, monkeypatch):
    monkeypatch.delenv("STATEDATA_CHECK_CONTENTS")  # as in a college's run: served, not measured again
    with memo.held(tmp_path / "contents.json", warehouse, db.file_stamp(warehouse)), db.connect(warehouse) as con:
        t, u, v = content(con, "core", "t"), content(con, "core", "u"), content(con, "staging", "v")
        con.execute("insert into core.t values (1)")  # a write that does not say so: the memo cannot know
        assert content(con, "core", "t") == t
        memo.wrote("core", "t")
        assert content(con, "core", "t") != t
        assert memo.get("core", "u", ()) == u  # another table is still known
        assert memo.get("staging", "v", ()) is None  # a view that reads it is measured anew
        assert content(con, "staging", "v") != v  # the row inserted has an id < 5


def test_a_view_is_measured_anew_when_a_table_it_reads_is_written_and_only_then(warehouse, tmp_path, monkeypatch):
    monkeypatch.delenv("STATEDATA_CHECK_CONTENTS")
    with memo.held(tmp_path / "contents.json", warehouse, db.file_stamp(warehouse)), db.connect(warehouse) as con:
        con.execute("create view staging.w as with small as (select id from staging.v) select * from small")
        con.execute("set search_path = 'core'")
        con.execute("create view staging.x as select id from u")  # a name not qualified: core.u, or any other u
        con.execute("create view staging.y as select 'AS' as kw, id from core.u")
        views = ("v", "w", "x", "y")
        contents = {name: content(con, "staging", name) for name in views}
        memo.wrote("platform", "t")  # another layer's t
        memo.wrote("audit", "run")
        assert {name: memo.get("staging", name, ()) for name in views} == contents
        memo.wrote("core", "t")  # v reads it, w reads v
        assert [name for name in views if memo.get("staging", name, ())] == ["x", "y"]
        memo.wrote("raw", "u")  # for all the memo knows, x's u
        assert [name for name in views if memo.get("staging", name, ())] == ["y"]
        memo.wrote("core", "u")
        assert [name for name in views if memo.get("staging", name, ())] == []


def test_under_the_test_suite_a_write_that_does_not_say_so_fails(warehouse, tmp_path):
    assert memo.checking()  # tests/conftest.py
    with memo.held(tmp_path / "contents.json", warehouse, db.file_stamp(warehouse)), db.connect(warehouse) as con:
        content(con, "core", "t")
        con.execute("delete from core.t where id = 3")
        with pytest.raises(memo.StaleContent, match="core.t"):
            content(con, "core", "t")


def test_a_rollback_forgets_what_was_measured_inside_it(warehouse, tmp_path):
    with memo.held(tmp_path / "contents.json", warehouse, db.file_stamp(warehouse)), db.connect(warehouse) as con:
        content(con, "core", "u")
        with pytest.raises(duckdb.Error):  # the national table's SQL fails after its rows were deleted
            rebuild_partition(
                con, "platform", "p", "2026-2027", {}, sql="select 'x' as academic_year, cast('a' as integer) as y"
            )
        assert memo.get("core", "u", ()) is None


def test_another_databases_tables_are_measured(warehouse, tmp_path):
    other = tmp_path / "backup.duckdb"
    with db.connect(other) as con:
        con.execute("create schema core")
        con.execute("create table core.t as select 1 as id")
    with memo.held(tmp_path / "contents.json", warehouse, db.file_stamp(warehouse)):
        with db.connect(warehouse) as con:
            here = content(con, "core", "t")
        with db.connect(other) as con:
            there = con.execute("select count(*), sum(hash(t)::hugeint) from core.t as t").fetchone()
            assert content(con, "core", "t") == f"{there[0]}:{there[1]}" != here


def test_what_a_run_knew_is_taken_by_the_next_only_for_the_file_as_it_left_it(warehouse, tmp_path):
    known = tmp_path / "contents.json"
    stamp = db.file_stamp(warehouse)
    with memo.held(known, warehouse, stamp), db.connect(warehouse, read_only=True) as con:
        t = content(con, "core", "t")
        memo.record(known, db.file_stamp(warehouse))
    with memo.held(known, warehouse, stamp):
        assert memo.get("core", "t", ()) == t
    with memo.held(known, warehouse, [stamp[0], stamp[1] + 1]):  # the file was written since
        assert memo.get("core", "t", ()) is None
    recorded = json.loads(known.read_text(encoding="utf-8"))
    known.write_text(json.dumps(recorded | {"duckdb": "0.0.1"}), encoding="utf-8")  # measured by another DuckDB
    with memo.held(known, warehouse, stamp):
        assert memo.get("core", "t", ()) is None
    with memo.held(known, warehouse, stamp):
        memo.record(known, None)  # a run that failed: nothing is carried
    assert not known.exists()
    assert memo.get("core", "t", ()) is None  # no holder: nothing is kept
