import csv
import sqlite3

import pytest
import xlsxwriter
import xlwt

from connectors.base import SourceError
from connectors.files import FileSource
from connectors.sql import SqlSource, parse_url, redact
from model.mapping import load_mapping, load_mappings
from model.settings import DEMO_MAPPINGS


@pytest.fixture(scope="module")
def specs():
    return load_mappings(DEMO_MAPPINGS)


def count(db, table):
    with sqlite3.connect(db) as con:
        return con.execute(f'select count(*) from "{table}"').fetchone()[0]


def test_sql_extract_every_entity(specs, demo_src):
    for system in ("academic", "hr", "finance", "assets", "library"):
        spec = specs[system]
        with SqlSource(spec, f"sqlite:///{demo_src}/{system}.sqlite") as src:
            for e in spec.entities.values():
                x = src.extract(e)
                assert x.rows_read == count(demo_src / f"{system}.sqlite", e.table)
                assert x.table.num_rows + len(x.quarantined) == x.rows_read
                assert x.table.column_names == list(e.fields)


def test_fast_and_exact_paths_agree(specs, demo_src):
    """ConnectorX (used when it can) and the SQLAlchemy path (the fallback) give the same tables."""
    for system in ("academic", "hr", "library"):
        spec = specs[system]
        with SqlSource(spec, f"sqlite:///{demo_src}/{system}.sqlite") as src:
            for e in spec.entities.values():
                fast, exact = src._extract_connectorx(e), src._extract_sqlalchemy(e)
                assert fast is not None, (system, e.name)
                assert fast.table.equals(exact.table), (system, e.name)
                assert [q["reason"] for q in fast.quarantined] == [q["reason"] for q in exact.quarantined]


def test_keyless_rows_are_quarantined_with_reason(specs, demo_src):
    spec = specs["library"]
    with SqlSource(spec, f"sqlite:///{demo_src}/library.sqlite") as src:
        x = src.extract(spec.entities["item"])
    with sqlite3.connect(demo_src / "library.sqlite") as con:
        empty = con.execute("select count(*) from LIB_GCMX where TSTM is null").fetchone()[0]
    assert empty > 0 and len(x.quarantined) == empty
    q = x.quarantined[0]
    assert q["column"] == "TSTM" and "primary key TSTM is empty" in q["reason"] and q["source"] == "library.LIB_GCMX"


def test_missing_database_is_a_clear_error_and_creates_nothing(specs, tmp_path):
    db = tmp_path / "hr.sqlite"
    with pytest.raises(SourceError) as err:
        SqlSource(specs["hr"], f"sqlite:///{db}").extract(specs["hr"].entities["staff"])
    assert (
        "system 'hr' not found" in str(err.value) and str(db) in str(err.value) and "STATEDATA_HR_URL" in str(err.value)
    )
    assert not db.exists()


def test_changed_column_type_names_table_column_and_expectation(specs, demo, tmp_path):
    db = demo / "academic.sqlite"
    with sqlite3.connect(db) as con:  # the vendor turned the hours column into text
        con.execute("alter table JW_KCXX rename to old")
        con.execute(
            "create table JW_KCXX as select KCDM, KCMC, KCLX, KCXZ, cast(ZXS as text) as ZXS, SJXS, XF, KKBMDM,"
            " SFHXKC from old"
        )
    with pytest.raises(SourceError) as err:
        SqlSource(specs["academic"], f"sqlite:///{db}").extract(specs["academic"].entities["course"])
    msg = str(err.value)
    assert "JW_KCXX.ZXS changed type: expected integer" in msg and "academic.yaml" in msg and "field total_hours" in msg


def test_missing_column_and_table(specs, demo):
    db = demo / "hr.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("alter table RS_WPJS drop column GZDW")
        con.execute("drop table RS_JGXX")
    src = SqlSource(specs["hr"], f"sqlite:///{db}")
    with pytest.raises(SourceError, match=r"column RS_WPJS.GZDW \(field employer\) not found"):
        src.extract(specs["hr"].entities["external_teacher"])
    with pytest.raises(SourceError, match="table RS_JGXX not found"):
        src.extract(specs["hr"].entities["org_unit"])


def test_unconvertible_value_is_quarantined_not_loaded(specs, demo):
    db = demo / "academic.sqlite"
    with sqlite3.connect(db) as con:  # SQLite lets text into an INTEGER column
        con.execute("update JW_KCXX set ZXS = 'sixty' where KCDM = 'GG001'")
    with SqlSource(specs["academic"], f"sqlite:///{db}") as src:
        x = src.extract(specs["academic"].entities["course"])
    assert [q["key"] for q in x.quarantined] == ["GG001"]
    assert "ZXS: expected integer, found 'sixty'" in x.quarantined[0]["reason"]
    assert x.table.num_rows == x.rows_read - 1


def test_password_never_in_messages():
    assert "s3cret" not in redact("postgresql://etl:s3cret@db.example/hr")
    assert "***" in redact("postgresql://etl:s3cret@db.example/hr")


@pytest.mark.parametrize("password", ["p@ss", "p@ss:w/rd@9", "se/cret", "a:b", "pa%40ss"])
def test_a_password_is_parsed_whatever_it_holds(password):
    url = f"postgresql+psycopg2://etl:{password}@db.example:5432/hr?sslmode=require"
    parsed = parse_url(url)
    assert (parsed.username, parsed.host, parsed.port, parsed.database) == ("etl", "db.example", 5432, "hr")
    assert parsed.password == password.replace("%40", "@") and parsed.query == {"sslmode": "require"}
    assert redact(url) == "postgresql+psycopg2://etl:***@db.example:5432/hr?sslmode=require"


# -- file drops ------------------------------------------------------------------------------------


def test_demo_file_drops(specs, demo_src):
    plan = FileSource(specs["admissions"], demo_src / "admissions").extract(
        specs["admissions"].entities["enrolment_plan"]
    )
    assert plan.rows_read == plan.table.num_rows == 48 and not plan.quarantined
    assert set(plan.table.column("intake_year").to_pylist()) == {"2024", "2025", "2026"}
    assert plan.table.column("_source_row").to_pylist()[0] == 3  # title row, header row, then data
    dest = FileSource(specs["admissions"], demo_src / "admissions").extract(
        specs["admissions"].entities["graduate_destination"]
    )
    assert dest.rows_read > 0 and "毕业去向" not in dest.table.column_names  # canonical names only


DROP = """
system: drop
department: 招生就业处
title: test drop
source: {kind: files, env: X}
entities:
  plan:
    files: "plan*"
    header_row: HEADER
    primary_key: code
    fields:
      code: {column: 专业代码, required: true}
      name: 专业名称
      planned: {column: 计划数, type: integer}
"""


def drop_spec(tmp_path, header_row=1):
    p = tmp_path / "drop.yaml"
    p.write_text(DROP.replace("HEADER", str(header_row)), encoding="utf-8")
    return load_mapping(p)


ROWS = [
    ["专业代码", "专业名称", "计划数"],
    ["510203", "软件技术", 120],
    ["520201", "护理", "一百"],
    ["", "", ""],
    ["530302", "大数据与会计", 80],
]


def test_csv_in_gbk_and_utf8(tmp_path):
    spec = drop_spec(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    for enc, name in (("gbk", "plan_gbk.csv"), ("utf-8-sig", "plan_utf8.csv")):
        with (folder / name).open("w", encoding=enc, newline="") as f:
            csv.writer(f).writerows(ROWS)
    x = FileSource(spec, folder).extract(spec.entities["plan"])
    assert x.rows_read == 6  # blank line skipped, 3 data rows per file
    assert sorted(x.table.column("name").to_pylist()) == sorted(["软件技术", "大数据与会计"] * 2)
    assert len(x.quarantined) == 2
    q = x.quarantined[0]
    assert q["key"] == "plan_gbk.csv row 3" and q["column"] == "计划数" and "expected integer" in q["reason"]


def test_xlsx_with_title_row_and_xls(tmp_path):
    spec = drop_spec(tmp_path, header_row=2)
    folder = tmp_path / "in"
    folder.mkdir()
    wb = xlsxwriter.Workbook(str(folder / "plan2026.xlsx"))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["2026年招生计划"])
    for i, r in enumerate(ROWS):
        ws.write_row(i + 1, 0, r)
    wb.close()
    book = xlwt.Workbook()
    sh = book.add_sheet("Sheet1")
    sh.write(0, 0, "2025年招生计划")
    for i, r in enumerate(ROWS):
        for j, v in enumerate(r):
            sh.write(i + 1, j, v)
    book.save(str(folder / "plan2025.xls"))
    x = FileSource(spec, folder).extract(spec.entities["plan"])
    assert x.table.num_rows == 4 and len(x.quarantined) == 2
    assert x.table.column("planned").to_pylist() == [120, 80, 120, 80]  # plan2025.xls, then plan2026.xlsx
    assert set(x.table.column("_source_file").to_pylist()) == {"plan2026.xlsx", "plan2025.xls"}


def test_an_unusable_file_is_set_aside_with_one_message_and_the_others_load(tmp_path):
    spec = drop_spec(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    with (folder / "plan_a.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["专业代码", "名称", "计划数"], ["510203", "软件技术", 1]])
    (folder / "plan_b.xlsx").write_bytes(b"this is not a zip file")
    with (folder / "plan_c.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(ROWS[:2])
    x = FileSource(spec, folder).extract(spec.entities["plan"])
    assert x.table.column("code").to_pylist() == ["510203"] and x.rows_read == 1
    reasons = {q["source"]: q["reason"] for q in x.quarantined}
    assert (
        reasons["plan_a.csv"]
        == "plan_a.csv: column(s) 专业名称 not found in header row 1; found: 专业代码, 名称, 计划数"
    )
    assert reasons["plan_b.xlsx"].startswith("plan_b.xlsx: cannot be read as a spreadsheet")
    assert all(q["key"] is None for q in x.quarantined)  # file-level: no row to point at


def test_a_damaged_sqlite_source_is_named_and_not_retried(tmp_path, demo):
    """Issue 14, finding 3: a file that is not a database, or a truncated one, fails once with its path; only a
    source that may come back by itself is retried."""
    from connectors.base import SourceError
    from connectors.sql import SqlSource
    from model.mapping import load_mappings
    from model.settings import DEMO_MAPPINGS

    spec = load_mappings(DEMO_MAPPINGS)["hr"]
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(bytes(range(256)) * 20)
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes((demo / "hr.sqlite").read_bytes()[: 3 * 4096])
    for path in (garbage, truncated):
        with pytest.raises(SourceError) as err:
            SqlSource(spec, f"sqlite:///{path}").extract(spec.entities["staff"])
        assert str(path) in str(err.value) and not err.value.transient, str(err.value)


@pytest.mark.parametrize(
    "url, said",
    [
        ("nosuchdb://u:se@cret@h/db", "NoSuchModuleError"),  # an unknown database type
        ("postgresql+psycopg2cffi://u:se@cret@h/db", "No module named 'psycopg2cffi'"),  # a driver not installed
        ("postgresql://u:se@cret@h:notaport/db", "ValueError"),  # a port that is not a number
        ("garbage", "ArgumentError"),
    ],
)
def test_an_unusable_url_is_a_permanent_source_error_naming_the_variable_not_the_password(url, said):
    spec = load_mappings(DEMO_MAPPINGS)["hr"]
    with pytest.raises(SourceError) as e:
        SqlSource(spec, url).extract(spec.entities["staff"])
    assert not e.value.transient and "STATEDATA_HR_URL is not a usable SQLAlchemy URL" in str(e.value)
    assert said in str(e.value) and "se@cret" not in str(e.value)
