"""The national table writer refuses to cut a value: Excel holds 32,767 characters in a cell."""

import duckdb
import pytest
from python_calamine import CalamineWorkbook

from reporting.export import write_table
from reporting.templates import Column, TableTemplate

T = TableTemplate(
    id="note", number="X1", name="测试表", owner="质量管理办公室", source_table="note", key=("k",),
    columns=(Column("键", "k", "note.k"), Column("说明", "v", "note.v")),
)  # fmt: skip


@pytest.fixture
def con():
    with duckdb.connect() as c:
        c.execute("create schema platform")
        c.execute("create table platform.note (academic_year varchar, k varchar, v varchar)")
        yield c


def test_a_table_is_written_whole(con, tmp_path):
    con.execute("insert into platform.note values ('2025-2026', 'a', ?), ('2025-2026', 'b', 'x')", ["y" * 32767])
    assert write_table(con, T, "2025-2026", tmp_path / "t.xlsx") == 2
    rows = CalamineWorkbook.from_path(str(tmp_path / "t.xlsx")).get_sheet_by_index(0).to_python()
    assert rows[1] == ["a", "y" * 32767] and rows[2] == ["b", "x"]


def test_a_value_longer_than_a_cell_holds_stops_the_table_instead_of_being_cut(con, tmp_path):
    con.execute("insert into platform.note values ('2025-2026', 'a', 'x'), ('2025-2026', 'b', ?)", ["y" * 40000])
    with pytest.raises(ValueError, match=r"X1 测试表, row 2: a value is longer than an Excel cell holds"):
        write_table(con, T, "2025-2026", tmp_path / "t.xlsx")
