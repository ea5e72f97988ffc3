"""The corpus of bad drops in tests/fixtures/bad_drops: every row is loaded or quarantined with a
reason naming file, sheet, row and column; every unusable file gets one clear message."""

import csv
import os
import shutil
import sqlite3
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from connectors.files import FileSource, column_letter, read_rows
from connectors.sql import SqlSource
from model.mapping import load_mapping
from warehouse import db, raw

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_drops"
NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)

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


# -- cells calamine cannot give as they are (issue 14, finding 5) -------------------------------------------------

HEADER = ["专业代码", "专业名称", "计划招生数", "批准日期", "基数"]  # 基数: a column the mapping does not read
UNCOMPUTED = "公式单元格没有计算结果：请在 Excel 中打开并保存后重新提交，或粘贴为数值"


@pytest.fixture
def plan(tmp_path):
    """The corpus's mapping, and an empty drop folder of its own."""
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    folder = tmp_path / "own"
    folder.mkdir()
    return load_mapping(tmp_path / "m.yaml"), folder


def rows_of(extract):
    return [tuple(r.values()) for r in extract.table.select(["_source_row", "code", "planned"]).to_pylist()]


def write_xlsx(path: Path, rows: list[str]) -> None:
    """A minimal workbook written by hand, the way Excel saves one (no fullCalcOnLoad: its results are
    computed): ``rows`` are the <row> elements of Sheet1."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets><calcPr calcId="191029"/></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
        f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{"".join(rows)}</sheetData></worksheet>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text)


def text_row(n: int, *cells) -> str:
    """A <row> of inline strings from column A on; a cell given as XML (<c r="REF" …>) gets its reference."""
    out = []
    for i, v in enumerate(cells):
        ref = f"{column_letter(i)}{n}"
        out.append(
            v.replace("REF", ref) if v.startswith("<c") else f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>'
        )
    return f'<row r="{n}">{"".join(out)}</row>'


def test_a_formula_without_a_computed_result_is_quarantined_not_loaded_as_zero(plan):
    """xlsxwriter computes no formula: without a value it stores 0 as the result (and marks the workbook
    fullCalcOnLoad), which calamine reads as 0. That row is quarantined; a formula given its result loads it."""
    spec, folder = plan
    path = folder / "plan_20_formulas.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADER)
    ws.write_row(1, 0, ["510203", "软件技术", None, "2015-06-01", 60])
    ws.write_formula("C2", "=E2*2", None, 120)  # with its result, as a program that computes it writes it
    ws.write_row(2, 0, ["520201", "护理", None, "2012-06-01", 100])
    ws.write_formula("C3", "=E3*2")  # no result
    ws.write_row(3, 0, ["530302", "大数据与会计", 80, "2018-06-01"])
    ws.write_row(11, 0, ["510205", "大数据技术", None, "2019-06-01", 45])
    ws.write_formula("C12", "=E12*2")
    wb.close()
    assert read_rows(path, 0)[1][2][2] == 0  # what calamine makes of it: a silent 0

    x = FileSource(spec, folder).extract(spec.entities["plan"])
    assert rows_of(x) == [(2, "510203", 120), (4, "530302", 80)]  # the cached result loads
    assert x.rows_read == 4 and x.rows_quarantined == 2 and x.files_rejected == 0
    assert [(q["source"], q["key"], q["column"], q["value"], q["reason"]) for q in x.quarantined] == [
        (
            "plan_20_formulas.xlsx#Sheet1",
            "plan_20_formulas.xlsx#Sheet1 row 3",
            "计划招生数",
            "=E3*2",
            f"plan_20_formulas.xlsx#Sheet1 第 3 行，列“计划招生数”（C3）：{UNCOMPUTED}",
        ),
        (
            "plan_20_formulas.xlsx#Sheet1",
            "plan_20_formulas.xlsx#Sheet1 row 12",
            "计划招生数",
            "=E12*2",
            f"plan_20_formulas.xlsx#Sheet1 第 12 行，列“计划招生数”（C12）：{UNCOMPUTED}",
        ),
    ]


def test_openpyxl_formulas_shared_formulas_and_excel_results(plan):
    """openpyxl writes a formula with an empty <v/>: calamine reads it as empty. A shared formula's other cells
    (<f t="shared" si="0"/>) count too. Results Excel computed load: 0, and empty text (t="str")."""
    spec, folder = plan
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["510203", "软件技术", "=E2*2", "2015-06-01", 60])
    ws.append(["520201", "护理", 200, "2012-06-01", 100])
    wb.save(folder / "plan_21_openpyxl.xlsx")
    shared = '<c r="REF"><f t="shared" si="0"/>{}</c>'
    write_xlsx(
        folder / "plan_22_saved_by_excel.xlsx",
        [
            text_row(1, *HEADER),
            text_row(2, "510203", "软件技术", '<c r="REF"><f t="shared" ref="C2:C5" si="0">E2*2</f><v>120</v></c>'),
            text_row(3, "520201", "护理", shared.format("<v>200</v>")),
            text_row(4, "530302", '<c r="REF" t="str"><f>""</f><v></v></c>', shared.format("")),  # no result
            text_row(5, "510205", "大数据技术", '<c r="REF"><f>E5*0</f><v>0</v></c>'),  # Excel's 0 is a result
        ],
    )
    x = FileSource(spec, folder).extract(spec.entities["plan"])
    assert rows_of(x) == [(3, "520201", 200), (2, "510203", 120), (3, "520201", 200), (5, "510205", 0)]
    assert x.rows_read == 6 and x.rows_quarantined == 2
    assert [q["reason"] for q in x.quarantined] == [
        f"plan_21_openpyxl.xlsx#Sheet 第 2 行，列“计划招生数”（C2）：{UNCOMPUTED}",
        f"plan_22_saved_by_excel.xlsx#Sheet1 第 4 行，列“计划招生数”（C4）：{UNCOMPUTED}",
    ]


def test_an_error_value_is_quarantined_not_loaded_empty(plan):
    """calamine reads an error result (#DIV/0!, #N/A) as empty text: the row is quarantined with the error named."""
    spec, folder = plan
    write_xlsx(
        folder / "plan_23_errors.xlsx",
        [
            text_row(1, *HEADER),
            text_row(2, "510203", "软件技术", '<c r="REF" t="e"><f>E2/0</f><v>#DIV/0!</v></c>'),
            text_row(3, "520201", "护理", '<c r="REF"><v>200</v></c>'),
        ],
    )
    x = FileSource(spec, folder).extract(spec.entities["plan"])
    assert rows_of(x) == [(3, "520201", 200)] and x.rows_quarantined == 1
    assert x.quarantined[0]["reason"] == (
        "plan_23_errors.xlsx#Sheet1 第 2 行，列“计划招生数”（C2）："
        "单元格是错误值 #DIV/0!：请在 Excel 中改正公式或数据后重新提交"
    )


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory):
    """An initialised warehouse to copy (initialising one takes a second: the national code tables)."""
    path = tmp_path_factory.mktemp("warehouse") / "w.duckdb"
    with db.connect(path) as con:
        db.init(con)
    return path


def load_raw(warehouse, spec, entity, extract):
    """Load one extract into raw as the pipeline does; the loaded keys and the quarantine it recorded."""
    with db.connect(warehouse) as con:
        con.execute("begin")
        stats = raw.load_entity(con, spec, spec.entities[entity], extract, 1, NOW)
        con.execute("insert into audit.batch values (1, ?, 'test', ?, ?, 'committed')", [spec.system, NOW, NOW])
        con.execute("commit")
        table = spec.table_name(entity)
        loaded = con.execute(f"select {spec.entities[entity].primary_key[0]} from raw.{table} order by 1").fetchall()
        reasons = con.execute("select row_key, reason from audit.quarantine order by 1").fetchall()
    return stats, [r[0] for r in loaded], reasons


LIMIT_TEXT = "超过 Excel 单元格上限 32,767 字符（国家报表是 Excel 文件，写入时会被截断）：请在源数据中缩短后重新提交"


def test_a_cell_longer_than_excel_holds_is_quarantined_from_csv_and_xlsx(plan, tmp_path, empty_warehouse):
    """A 40,000-character cell would be cut in the national Excel tables: its row is quarantined when loaded
    into raw (the one check for every source), naming file, row, column and length; the other rows load."""
    spec, folder = plan
    long = "长" * 40_000
    with (folder / "plan_24_long.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER[:4], ["510203", "软件技术", 120, ""], ["520201", long, 200, ""]])
    write_xlsx(
        folder / "plan_25_long.xlsx",  # xlsxwriter and openpyxl cut the text themselves: written by hand
        [text_row(1, *HEADER), text_row(2, "530302", long), text_row(3, "510205", "大数据技术")],
    )
    x = FileSource(spec, folder).extract(spec.entities["plan"])
    assert x.rows_read == 4 and not x.quarantined
    assert max(len(v) for v in x.table.column("name").to_pylist()) == 40_000  # calamine gives it whole

    stats, loaded, reasons = load_raw(shutil.copy(empty_warehouse, tmp_path), spec, "plan", x)
    assert (stats.rows_read, stats.rows_inserted, stats.rows_quarantined) == (4, 2, 2)
    assert loaded == ["510203", "510205"]
    assert reasons == [
        ("plan_24_long.csv row 3", f"plan_24_long.csv 第 3 行，列“专业名称”的单元格长 40,000 字符，{LIMIT_TEXT}"),
        (
            "plan_25_long.xlsx#Sheet1 row 2",
            f"plan_25_long.xlsx#Sheet1 第 2 行，列“专业名称”的单元格长 40,000 字符，{LIMIT_TEXT}",
        ),
    ]


def test_a_sql_text_longer_than_excel_holds_is_quarantined_by_the_same_check(tmp_path, empty_warehouse):
    """The same check covers SQL sources, read by either path; Excel counts UTF-16 units (an emoji is two)."""
    path = tmp_path / "src.sqlite"
    with sqlite3.connect(path) as s:
        s.execute("create table ZY (ZYDM text primary key, ZYMC text)")
        s.executemany(
            "insert into ZY values (?, ?)",
            [("510203", "软件技术"), ("520201", "😀" * 20_000), ("530302", "长" * 32_767)],
        )
    (tmp_path / "sql.yaml").write_text(
        "system: jw\ndepartment: 教务处\ntitle: t\nsource: {kind: sql, env: X}\nentities:\n"
        "  major:\n    table: ZY\n    primary_key: code\n    fields:\n      code: ZYDM\n      name: ZYMC\n",
        encoding="utf-8",
    )
    spec = load_mapping(tmp_path / "sql.yaml")
    e = spec.entities["major"]
    with SqlSource(spec, f"sqlite:///{path}") as src:
        fast, exact = src._extract_connectorx(e), src._extract_sqlalchemy(e)
    assert fast is not None and not fast.quarantined and not exact.quarantined
    for i, x in enumerate((fast, exact)):
        (tmp_path / str(i)).mkdir()
        stats, loaded, reasons = load_raw(shutil.copy(empty_warehouse, tmp_path / str(i)), spec, "major", x)
        assert stats.rows_quarantined == 1 and loaded == ["510203", "530302"]  # 32,767 exactly still fits
        assert reasons == [("520201", f"jw.ZY 键 520201，列“ZYMC”的值长 40,000 字符，{LIMIT_TEXT}")]
