"""The corpus of bad drops in tests/fixtures/bad_drops: every row is loaded or quarantined with a
reason naming file, sheet, row and column; every unusable file gets one clear message."""

import os
import shutil
import time
from pathlib import Path

import pytest

from connectors.files import FileSource
from model.mapping import load_mapping

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_drops"

MAPPING = """
system: drops
department: 招生就业处
title: bad drops
source: {kind: files, env: X}
entities:
  plan:
    files: "plan_*"
    primary_key: code
    fields:
      code: {column: 专业代码, required: true}
      name: 专业名称
      planned: {column: 计划招生数, type: integer, aliases: [计划数]}
      approved_on: {column: 批准日期, type: date}
  two_rows:
    files: "two_row_*"
    header_rows: 2
    primary_key: code
    fields:
      code: {column: 专业/代码, required: true}
      name: 专业/名称
      planned: {column: 招生/计划招生数, type: integer}
"""


@pytest.fixture
def drops(tmp_path):
    folder = tmp_path / "drops"
    shutil.copytree(CORPUS, folder)
    old = time.time() - 3600  # copied files are new: make them an hour old, as in a real drop folder
    for p in folder.iterdir():
        os.utime(p, (old, old))
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    spec = load_mapping(tmp_path / "m.yaml")
    return spec, folder


def by_file(extract):
    rows = {}
    for f, code, name, planned, approved in zip(
        *(extract.table.column(c).to_pylist() for c in ("_source_file", "code", "name", "planned", "approved_on"))
    ):
        rows.setdefault(f, []).append((code, name, planned, approved))
    return rows


def test_corpus_accounting_and_messages(drops):
    spec, folder = drops
    x = FileSource(spec, folder, settle_seconds=60).extract(spec.entities["plan"])
    rows = by_file(x)
    problems = {q["source"]: q["reason"] for q in x.quarantined if q["key"] is None}
    bad_rows = [q for q in x.quarantined if q["key"] is not None]

    # the accounting holds: rows read = rows loaded + rows quarantined
    assert x.rows_read == x.table.num_rows + len(bad_rows)

    good = [
        ("510203", "软件技术", 120, "2015-06-01"),
        ("520201", "护理", 200, "2012-06-01"),
        ("530302", "大数据与会计", 80, "2018-06-01"),
    ]
    for name in (
        "plan_01_gbk.csv",
        "plan_02_utf8_bom.csv",
        "plan_03_utf8.csv",
        "plan_04_title_row.xlsx",
        "plan_05_extra_and_renamed.xlsx",
        "plan_11_xls_saved_as_xlsx.xlsx",
    ):
        assert rows[name] == good, name
    assert rows["plan_07_dates.xlsx"] == [
        ("510203", "软件技术", 120, "2015-06-01"),
        ("520201", "护理", 200, "2012-06-01"),
        ("530302", "大数据与会计", 80, "2018-06-01"),
        ("510205", "大数据技术", 90, "2019-06-01"),
        ("460301", "机电一体化技术", 60, "2010-06-01"),
        ("440301", "建筑工程技术", 50, "去年六月"),
    ]  # kept, not guessed
    assert rows["plan_08_fullwidth.csv"] == [
        ("510203", "软件技术", 120, "2015-06-01"),
        ("520201", "护理", 200, "2012-06-01"),
    ]
    assert rows["plan_09_duplicate_rows.csv"] == [good[0], good[0], good[1]]  # both copies kept for the checks
    assert rows["plan_15_bad_values.csv"] == [good[0]]

    assert problems == {
        "plan_06_missing_column.xlsx": "plan_06_missing_column.xlsx#Sheet1: column(s) 计划招生数 not found "
        "in header row 2; found: 专业代码, 专业名称, 批准日期",
        "plan_10_empty.xlsx": "plan_10_empty.xlsx#Sheet1: the sheet is empty",
        "plan_12_password.xlsx": "plan_12_password.xlsx: the workbook is password-protected; "
        "ask the sender for an unprotected copy",
        "plan_13_partial.xlsx": problems["plan_13_partial.xlsx"],
        "plan_14_open_in_excel.xlsx": "plan_14_open_in_excel.xlsx: open in Excel on someone's computer "
        "(lock file ~$plan_14_open_in_excel.xlsx); it will be read once it is closed",
    }
    assert problems["plan_13_partial.xlsx"].startswith(
        "plan_13_partial.xlsx: cannot be read as a spreadsheet, damaged or still being written"
    )
    assert sorted((q["key"], q["column"], q["reason"]) for q in bad_rows) == [
        ("plan_15_bad_values.csv row 3", "计划招生数", "计划招生数: expected integer, found '一百'"),
        ("plan_15_bad_values.csv row 4", "专业代码", "primary key 专业代码 is empty: the row cannot be identified"),
    ]


def test_two_row_merged_header(drops):
    spec, folder = drops
    x = FileSource(spec, folder).extract(spec.entities["two_rows"])
    assert x.table.select(["code", "name", "planned"]).to_pylist() == [
        {"code": "510203", "name": "软件技术", "planned": 120},
        {"code": "520201", "name": "护理", "planned": 200},
        {"code": "530302", "name": "大数据与会计", "planned": 80},
    ]


def test_a_file_still_being_written_waits_for_the_next_run(drops):
    spec, folder = drops
    fresh = folder / "plan_03_utf8.csv"
    fresh.touch()  # just changed
    x = FileSource(spec, folder, settle_seconds=60).extract(spec.entities["plan"])
    [reason] = [q["reason"] for q in x.quarantined if q["source"] == fresh.name]
    assert "probably still being written; it will be read by the next run" in reason
    assert fresh.name not in set(x.table.column("_source_file").to_pylist())


def test_a_csv_with_a_one_megabyte_cell_is_set_aside_alone(drops):
    """Issue 14, finding 3: one oversized cell used to fail the whole file-drop system; now only its file is set
    aside, with its line named, and the other files load."""
    spec, folder = drops
    huge = folder / "plan_huge.csv"
    text = "专业代码,专业名称,计划招生数\n510201,计算机应用技术,40\n510203," + "长" * 1_000_000 + ",30\n"
    huge.write_text(text, "utf-8")
    os.utime(huge, (time.time() - 3600,) * 2)
    extract = FileSource(spec, folder).extract(spec.entities["plan"])
    (problem,) = [q for q in extract.quarantined if q["source"] == "plan_huge.csv"]
    assert problem["key"] is None and "line 3 cannot be read as CSV" in problem["reason"]
    assert "plan_huge.csv" not in by_file(extract) and by_file(extract)  # the other plan files still load
