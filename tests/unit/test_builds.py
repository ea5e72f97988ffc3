"""warehouse/builds.py on a real DuckDB file: a build is kept only while its SQL, its parameters, every table it
reads and what it left are as at its last build."""

import pytest

from warehouse import builds, db

SQL = "select kind, count(*) as n from core.item where year = $year group by kind"


@pytest.fixture
def con(tmp_path):
    with db.connect(tmp_path / "w.duckdb") as c:
        db.init(c)
        c.execute(
            "create table core.item as select * from (values ('a', 2025), ('b', 2025), ('a', 2024)) t(kind, year)"
        )
        yield c


def build(con, params) -> str:
    key = builds.key(con, SQL, params, [("core", "item")])
    con.execute(f"create or replace table platform.counts as {SQL}", db.params_used(SQL, params))
    builds.remember(con, "platform", "counts", builds.WHOLE, key, "run-1")
    return key


def test_a_build_is_kept_while_its_inputs_and_its_output_are_as_they_were(con):
    key = build(con, {"year": 2025, "unused": 1})
    assert builds.kept(con, "platform", "counts", builds.WHOLE, key) == 2
    # a parameter the SQL does not bind does not count; one it binds does
    assert builds.key(con, SQL, {"year": 2025, "unused": 2}, [("core", "item")]) == key
    assert builds.key(con, SQL, {"year": 2024}, [("core", "item")]) != key
    assert builds.key(con, SQL + " order by 1", {"year": 2025}, [("core", "item")]) != key
    assert builds.key(con, SQL, {"year": 2025}, [("core", "item")], extra="finance_items v2") != key
    # the output written by something else: not kept
    con.execute("update platform.counts set n = 5 where kind = 'a'")
    assert builds.kept(con, "platform", "counts", builds.WHOLE, key) is None


@pytest.mark.parametrize(
    "change",
    [
        "update core.item set kind = 'c' where year = 2024",  # any value, even one this build filters out
        "insert into core.item values ('a', 2025)",  # a duplicated row
        "delete from core.item where kind = 'b'",
    ],
)
def test_any_change_to_a_table_read_changes_the_key(con, change):
    key = build(con, {"year": 2025})
    con.execute(change)
    assert builds.key(con, SQL, {"year": 2025}, [("core", "item")]) != key


def test_an_academic_year_is_kept_on_its_own_rows(con):
    con.execute(
        "create table platform.t as select * from (values ('2024-2025', 1), ('2025-2026', 2)) t(academic_year, v)"
    )
    builds.remember(con, "platform", "t", "2025-2026", "k", "run-1")
    assert builds.kept(con, "platform", "t", "2025-2026", "k") == 1
    con.execute("insert into platform.t values ('2024-2025', 3)")  # another year's rows
    assert builds.kept(con, "platform", "t", "2025-2026", "k") == 1
    con.execute("insert into platform.t values ('2025-2026', 3)")
    assert builds.kept(con, "platform", "t", "2025-2026", "k") is None
    assert builds.content(con, "platform", "missing") == "absent"
    assert builds.kept(con, "platform", "missing", builds.WHOLE, "k") is None
