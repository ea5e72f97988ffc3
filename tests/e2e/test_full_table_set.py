"""The full national table set on the small demo, for the last completed academic year (2025-2026):
every table produced, golden contents, indicators recomputed independently, the submission package."""

import csv
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from demo_campus.generator import GeneratorConfig, generate
from expectations.generated import rule_set
from model.codes import CODES_DIR
from model.settings import Settings
from pipelines.cli import main
from reporting import export as export_module
from reporting.export import export_year
from reporting.templates import TEMPLATES_DIR, load_pack, pack_for_year
from tests.conftest import YEAR, sign_all
from warehouse import db, offload
from warehouse.lineage import resolve

DEMO_RULES = rule_set(Settings.from_env({}))  # the demo college's: the catalogue and the rules generated for it

PACKAGED = f"{YEAR - 1}-{YEAR}"  # the last completed academic year: what `statedata package` builds by default
GOLDEN = Path(__file__).parents[1] / "golden" / f"small-{PACKAGED}"
ENV = {"STATEDATA_MAPPINGS": None, "DAGSTER_HOME": None} | {
    f"STATEDATA_{s}_{k}": None
    for s, k in [
        ("ACADEMIC", "URL"),
        ("HR", "URL"),
        ("FINANCE", "URL"),
        ("ASSETS", "URL"),
        ("LIBRARY", "URL"),
        ("ADMISSIONS", "DIR"),
        ("OFFICE", "DIR"),
        ("FORMS", "DIR"),
    ]
}


def cli(home: Path, *args):
    res = CliRunner().invoke(main, list(args), env=ENV | {"STATEDATA_HOME": str(home)})
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A home with the small demo, run for the packaged year, and its package built."""
    home = tmp_path_factory.mktemp("full")
    generate(GeneratorConfig(out_dir=home / "demo", scale="small", year=YEAR))
    cli(home, "run", "--year", PACKAGED, "--quiet")
    cli(home, "package", "--year", PACKAGED, "--draft")  # the demo's injected defects fail error rules
    return home


def sheet_rows(path: Path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def as_csv(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(["" if v is None else v for v in r] for r in rows)
    return buf.getvalue()


def package_folder(home: Path, draft: bool = True) -> Path:
    return home / "out" / "packages" / f"4141099999_{PACKAGED}{'_draft' if draft else ''}"


def test_every_table_of_the_pack_is_in_the_package_and_not_empty(built):
    pack = pack_for_year(PACKAGED)
    manifest = json.loads((package_folder(built) / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["file"]: f for f in manifest["files"]}
    assert set(listed) == {t.file_name for t in pack.tables} | {"核心数据复核清单.xlsx"}
    for t in pack.tables:
        f = listed[t.file_name]
        rows = sheet_rows(package_folder(built) / t.file_name)
        for i, c in enumerate(t.columns):  # grouped columns have their header in the second row
            assert rows[1 if c.group else 0][i] == c.header, (t.file_name, c.header)
        assert len(rows) - t.header_depth == f["rows"] > 0, t.file_name
    assert listed["A9-3_社会捐赠情况表.xlsx"]["filled"] == [
        {"by": "陈丽华", "on": "2026-09-20", "file": f"{PACKAGED}_社会捐赠情况.xlsx"}
    ]
    assert "filled" not in listed["A10-1_在校生信息表.xlsx"]
    assert manifest["template_pack"] == {"pack": pack.pack, "version": pack.version, "title": pack.title}
    assert manifest["warehouse_snapshot"].startswith("b") and len(manifest["code_lists_version"]) == 12


@pytest.mark.parametrize("table_id", [t.id for t in pack_for_year(PACKAGED).tables])
def test_golden_table(built, table_id):
    """Each table's cells equal the committed golden copy (STATEDATA_UPDATE_GOLDEN=1 rewrites it)."""
    t = pack_for_year(PACKAGED).table(table_id)
    got = as_csv(sheet_rows(package_folder(built) / t.file_name))
    golden = GOLDEN / f"{t.number}_{t.id}.csv"
    if os.environ.get("STATEDATA_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8"), f"{t.number} {t.name} differs from {golden}"


def test_package_rebuilt_from_the_same_snapshot_is_byte_identical(built, tmp_path):
    folder = package_folder(built)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    zip_before = folder.with_suffix(".zip").read_bytes()
    cli(built, "package", "--year", PACKAGED, "--out", str(tmp_path), "--draft")
    assert {p.name: p.read_bytes() for p in (tmp_path / folder.name).iterdir()} == before
    assert (tmp_path / f"{folder.name}.zip").read_bytes() == zip_before
    assert before.pop(f"{folder.name}.zip") == zip_before  # the zip shown beside the folder is the one inside it
    with zipfile.ZipFile(folder.with_suffix(".zip")) as z:
        assert sorted(z.namelist()) == sorted(f"{folder.name}/{n}" for n in before)
    manifest = json.loads(before["manifest.json"])
    for f in manifest["files"]:
        assert hashlib.sha256(before[f["file"]]).hexdigest() == f["sha256"]


@pytest.mark.parametrize("step", ["filled", "versioned", "linked"])
def test_a_package_that_crashes_while_publishing_leaves_the_last_one_whole(built, tmp_path, monkeypatch, step):
    from reporting import publish
    from reporting.package import build_package

    out = tmp_path / "packages"
    shutil.copytree(built / "out" / "packages", out, symlinks=True)
    folder = out / package_folder(built).name
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def crash(name):
        if name == step:
            raise KeyboardInterrupt(name)  # as a kill would: nothing of the publish's own code runs after it

    monkeypatch.setattr(publish, "_step", crash)
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as con, pytest.raises(KeyboardInterrupt):
        build_package(con, pack_for_year(PACKAGED), PACKAGED, out, blocking=["R-X"])
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert folder.with_suffix(".zip").read_bytes() == before[f"{folder.name}.zip"]
    assert len(list((out / ".versions").iterdir())) > 1  # the crash's leftovers …
    monkeypatch.undo()
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as con:
        build_package(con, pack_for_year(PACKAGED), PACKAGED, out, blocking=["R-X"])
    assert len(list((out / ".versions").iterdir())) == 1  # … removed by the next publish
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["blocking_rules"] == ["R-X"]


def test_package_refuses_a_year_the_warehouse_does_not_hold(built):
    res = CliRunner().invoke(main, ["package", "--year", "2022-2023"], env=ENV | {"STATEDATA_HOME": str(built)})
    assert res.exit_code == 1 and "statedata run --year 2022-2023" in res.output


def test_package_is_refused_while_error_rules_fail_and_a_draft_says_so(built):
    res = CliRunner().invoke(main, ["package", "--year", PACKAGED], env=ENV | {"STATEDATA_HOME": str(built)})
    assert res.exit_code == 1 and f"the {PACKAGED} package is refused" in res.output
    assert "R-KC-001 (教务处)" in res.output and "statedata failures" in res.output
    assert not package_folder(built, draft=False).exists()  # nothing written in place of a good package
    manifest = json.loads((package_folder(built) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["draft"] is True and "R-KC-001" in manifest["blocking_rules"]


def test_a_renumbered_pack_needs_no_code_change(built, tmp_path):
    """The 2027 pack renumbers tables and renames headers; exporting the same data with it just works."""
    pack = load_pack(TEMPLATES_DIR / "national-2027.yaml")
    assert pack_for_year("2027-2028").pack == "national-2027" and pack_for_year("2026-2027").pack == "national-2024"
    with db.connect(built / "warehouse.duckdb", read_only=True) as con:
        files = export_year(con, pack, PACKAGED, tmp_path / "out")
    names = {f.path.name for f in files}
    assert "6.1_校内专任教师基本信息表.xlsx" in names and "A6-1-1_校内专任教师基本情况表.xlsx" not in names
    assert "A8-9_重大制度创新表.xlsx" not in names and len(files) == len(pack.tables) + 1
    header = sheet_rows(tmp_path / "out" / "6.1_校内专任教师基本信息表.xlsx")[0]
    assert "工号" in header and "是否双师型教师" in header and "教工号" not in header
    old = sheet_rows(package_folder(built) / "A6-1-1_校内专任教师基本情况表.xlsx")
    assert sheet_rows(tmp_path / "out" / "6.1_校内专任教师基本信息表.xlsx")[1:] == old[1:]


# -- the core indicators, recomputed in plain Python from the demo's source rows -----------------------


def _date(v) -> date | None:
    try:
        return date.fromisoformat(str(v)[:10]) if v else None
    except ValueError:
        return None


def _first(rows, key=0):
    """Rows with a key, the first of each key (the warehouse keeps the first version it read)."""
    seen = set()
    for r in rows:
        if r[key] is not None and r[key] not in seen:
            seen.add(r[key])
            yield r


def independent_indicators(src: Path, start: int) -> dict[str, float]:
    stock, y0, y1 = date(start, 9, 1), date(start, 9, 1), date(start + 1, 8, 31)

    def q(system, sql):
        with sqlite3.connect(src / f"{system}.sqlite") as c:
            return list(_first(c.execute(sql).fetchall()))

    def on_stock(begin, end):
        b, e = _date(begin), _date(end)
        return b is not None and b <= stock and (e is None or e > stock)

    students = sum(on_stock(r[1], r[2]) for r in q("academic", "select XH, RXRQ, LXRQ from XJ_XSJBXX order by rowid"))
    staff = [
        r
        for r in q("hr", "select JGH, LXRQ, LZRQ, GWLB, XWM, ZCM, SFSSXJS from RS_JZGJBXX order by rowid")
        if r[3] == "ZR" and on_stock(r[1], r[2])
    ]
    with open(CODES_DIR / "title.csv", encoding="utf-8") as f:
        senior_codes = {r["code"] for r in csv.DictReader(f) if r["level"] in ("正高级", "副高级")}
    external = [
        r
        for r in q("hr", "select WPJSBH, PRKSRQ, PRJSRQ from RS_WPJS order by rowid")
        if _date(r[1]) and _date(r[1]) <= y1 and (_date(r[2]) is None or _date(r[2]) >= y0)
    ]
    buildings = [
        r
        for r in q("assets", "select FWBH, FWYTDM, JZMJ, JCRQ from ZC_FWXX order by rowid")
        if _date(r[3]) is None or _date(r[3]) <= stock
    ]
    land = sum(
        r[1] * 10000 / 15
        for r in q("assets", "select TDBH, MJ, QDRQ from ZC_TDXX order by rowid")
        if _date(r[2]) is None or _date(r[2]) <= stock
    )
    cards = q("assets", "select ZCBH, DJ, coalesce(SL, 1), SYFX, GZRQ, BFRQ, FLDM from ZC_SBTZ order by rowid")
    counted = [r for r in cards if r[3] in ("1", "2") and r[1] is not None and r[1] >= 1000]
    equipment = sum(r[1] * r[2] for r in counted if on_stock(r[4], r[5]))
    added = sum(r[1] * r[2] for r in counted if _date(r[4]) and y0 <= _date(r[4]) <= y1)
    computers = sum(r[2] for r in cards if r[6] in ("05010105", "05010106") and r[3] == "1" and on_stock(r[4], r[5]))
    items = q("library", "select TSTM, RCRQ, ZXRQ from LIB_GCMX order by rowid")
    books = sum(on_stock(r[1], r[2]) for r in items)
    books_added = sum(1 for r in items if _date(r[1]) and y0 <= _date(r[1]) <= y1)
    form = sheet_rows(src / "forms" / f"{start}-{start + 1}_校园网与教室情况.xlsx")
    header, values = form[2], form[3]
    seats = values[header.index("多媒体教室座位数")] + values[header.index("语音实验室座位数")]

    def area(codes):
        return sum(float(r[2]) for r in buildings if r[1] in codes)

    teachers = len(staff)
    total_teachers = teachers + len(external) * 0.5
    return {
        "生师比": students / total_teachers,
        "具有研究生学位教师占专任教师的比例": 100 * sum(1 for r in staff if r[4] in ("2", "3")) / teachers,
        "生均教学行政用房": area({"01", "02", "03", "04", "05", "06", "07"}) / students,
        "生均教学科研仪器设备值": equipment / students,
        "生均图书": books / students,
        "具有高级职务教师占专任教师的比例": 100 * sum(1 for r in staff if r[5] in senior_codes) / teachers,
        "生均占地面积": land / students,
        "生均宿舍面积": area({"08"}) / students,
        "百名学生配教学用计算机台数": 100 * computers / students,
        "百名学生配多媒体教室和语音实验室座位数": 100 * seats / students,
        "新增教学科研仪器设备所占比例": 100 * added / equipment,
        "生均年进书量": books_added / students,
        "双师素质教师比例": 100 * sum(1 for r in staff if r[6] == "是") / teachers,
    }


def test_indicators_equal_an_independent_computation(built):
    expected = independent_indicators(built / "demo", YEAR - 1)
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as con:
        got = dict(
            con.execute(
                "select name, value from platform.core_indicator where academic_year = ?", [PACKAGED]
            ).fetchall()
        )
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=0.006), name
    truth = json.loads((built / "demo" / "manifest.json").read_text(encoding="utf-8"))["truth"][PACKAGED]
    # the student count behind them is the generator's truth
    assert expected["生均图书"] > 0 and truth["enrolled_students"] > 0


def test_review_list_shows_each_indicator_with_threshold_and_verdict(built):
    rows = sheet_rows(package_folder(built) / "核心数据复核清单.xlsx")
    assert "核心数据复核清单" in rows[0][0] and rows[3][:3] == ["序号", "指标类别", "指标"]
    body = [r for r in rows[4:] if isinstance(r[0], (int, float)) and r[0]]
    assert [r[2] for r in body][:2] == ["生师比", "具有研究生学位教师占专任教师的比例"] and len(body) == 13
    ratio = body[0]
    assert ratio[7] == "≤ 18" and ratio[8] in ("合格", "不合格") and "折合在校生数" in ratio[4]
    assert any("学校负责人（签字）" in str(c) for r in rows for c in r)


# -- the rule catalogue on the demo with defects ---------------------------------------------------------


def test_score_every_injected_defect_is_caught_on_its_row_without_false_alarms(built):
    res = CliRunner().invoke(main, ["score", "--json"], env=ENV | {"STATEDATA_HOME": str(built)})
    result = json.loads(res.output)
    defects = json.loads((built / "demo" / "manifest.json").read_text(encoding="utf-8"))["defects"]
    assert result["injected"] == len(defects) and len({d["kind"] for d in defects}) == len(result["kinds"]) == 29
    assert result["missed"] == [] and result["recall"] == 1.0, result["missed"]
    assert result["false_positive_rows"] == 0, result["false_positives"]
    assert res.exit_code == 0
    by_kind = {k["kind"]: k["rules"] for k in result["kinds"]}
    # a few kinds and the rule (or the quarantine) that must name their rows
    assert "R-XS-013" in by_kind["student_bad_id_checksum"] and "R-XS-014" in by_kind["student_id_birth_mismatch"]
    assert "R-JY-002" in by_kind["employment_bad_credit_code"] and by_kind["library_missing_barcode"] == ["quarantine"]
    assert "R-JS-015" in by_kind["staff_age_out_of_range"] and "R-JS-011" in by_kind["staff_unmapped_post_type"]


def test_rule_failures_name_the_source_rows_in_audit(built):
    defects = json.loads((built / "demo" / "manifest.json").read_text(encoding="utf-8"))["defects"]
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as con:
        evaluated = {r[0] for r in con.execute(
            "select rule_id from audit.rule_result where academic_year = ?", [PACKAGED]).fetchall()}  # fmt: skip
        rows = con.execute(
            "select source_system, source_table, source_key, column_name from audit.rule_failure "
            "where academic_year = ? and rule_id = 'R-XS-014'",
            [PACKAGED],
        ).fetchall()
    assert evaluated == {r.id for r in DEMO_RULES if r.applies(PACKAGED)}  # the catalogue's and the generated
    injected = {d["key"] for d in defects if d["kind"] == "student_id_birth_mismatch"}
    assert {(s, t, c) for s, t, _, c in rows} == {("academic", "XJ_XSJBXX", "birth_date")}
    assert {k for *_, k, _ in rows} == injected


def test_exports_of_a_failing_year_are_a_marked_draft_beside_the_last_good_ones(built):
    out = built / "out"
    draft = out / f"4141099999_{PACKAGED}_draft"
    assert not (out / f"4141099999_{PACKAGED}").exists()  # never a clean-looking folder from failing data
    workbook = CalamineWorkbook.from_path(str(draft / "A10-1_在校生信息表.xlsx"))
    assert workbook.sheet_names == ["A10-1", "草稿说明"]
    note = [r[0] for r in workbook.get_sheet_by_name("草稿说明").to_python()]
    assert note[0].startswith("草稿") and any(line.startswith("R-XS-001 ") for line in note)
    assert len(sheet_rows(draft / "A10-1_在校生信息表.xlsx")) > 1000  # the table itself is all there


def test_failures_by_department_list_rules_hints_and_rows(built):
    out = cli(built, "failures", "--dept", "教务处", "--year", PACKAGED)
    assert "R-KC-001" in out and "KC9999" in out and "在教务系统中更正该教学任务的课程代码" in out
    assert "R-XS-001" not in out  # 学生工作处's
    doc = json.loads(cli(built, "failures", "--dept", "招生就业处", "--year", PACKAGED, "--json"))
    emp = {f["rule"]: f for f in doc["failures"]}
    assert set(emp) == {"R-JY-001", "R-JY-002"}
    assert emp["R-JY-001"]["groups"][0]["table"].endswith("届毕业生毕业去向.csv")
    res = CliRunner().invoke(main, ["failures", "--dept", "后勤处"], env=ENV | {"STATEDATA_HOME": str(built)})
    assert res.exit_code == 2 and "no rule is owned by '后勤处'" in res.output


def test_department_reports_as_xlsx_and_html_mask_personal_values(built, tmp_path):
    defects = json.loads((built / "demo" / "manifest.json").read_text(encoding="utf-8"))["defects"]
    bad_ids = {d["value"] for d in defects if d["kind"] == "student_bad_id_checksum"}
    bad_id = min(bad_ids)
    cli(built, "failures", "--dept", "学生工作处", "--year", PACKAGED, "--format", "xlsx", "--out", str(tmp_path))
    workbook = CalamineWorkbook.from_path(str(tmp_path / f"学生工作处_{PACKAGED}.xlsx"))
    rules = [r[0] for r in workbook.get_sheet_by_name("问题汇总").to_python()[3:]]
    assert rules[:3] == ["R-XS-001", "R-XS-002", "R-XS-003"] and "R-XS-013" in rules
    detail = workbook.get_sheet_by_name("问题明细").to_python()
    id_rows = [r for r in detail if r[0] == "R-XS-013"]
    assert len(id_rows) == 2 and all("*" in r[6] and r[6] not in bad_ids for r in id_rows)
    cli(built, "failures", "--dept", "学生工作处", "--year", PACKAGED, "--format", "html", "--out", str(tmp_path))
    page = (tmp_path / f"学生工作处_{PACKAGED}.html").read_text(encoding="utf-8")
    assert "R-XS-013" in page and "对照学生身份证原件更正身份证号" in page and bad_id not in page
    cli(built, "failures", "--dept", "学生工作处", "--year", PACKAGED, "--format", "html", "--out", str(tmp_path),
        "--reveal")  # fmt: skip
    assert bad_id in (tmp_path / f"学生工作处_{PACKAGED}.html").read_text(encoding="utf-8")


def test_no_error_rule_fires_on_a_clean_demo_and_its_package_is_built(tmp_path):
    generate(GeneratorConfig(out_dir=tmp_path / "demo", scale="small", year=YEAR, clean=True))
    out = cli(tmp_path, "run", "--year", PACKAGED, "--json")
    summary = json.loads(out[out.index("{") :])
    assert summary["success"] and summary["checks"]["failed_error"] == 0, summary["checks"]["failures"]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        results = con.execute("select count(*), count(*) filter (where not passed and severity = 'error') "
                              "from audit.rule_result").fetchall()  # fmt: skip
    assert results == [(len([r for r in DEMO_RULES if r.applies(PACKAGED)]), 0)]
    score = json.loads(cli(tmp_path, "score", "--json"))
    assert score["clean"] and score["error_rules_fired"] == [] and score["false_positive_rows"] == 0
    assert (tmp_path / "out" / f"4141099999_{PACKAGED}").is_dir()  # the exports are not a draft
    assert not (tmp_path / "out" / f"4141099999_{PACKAGED}_draft").exists()
    refused = CliRunner().invoke(main, ["package", "--year", PACKAGED], env=ENV | {"STATEDATA_HOME": str(tmp_path)})
    assert refused.exit_code == 1 and "lack a valid 上报确认书" in refused.output  # nobody has signed yet
    signed = sign_all(tmp_path, PACKAGED)
    cli(tmp_path, "package", "--year", PACKAGED)  # clean data, every owning department signed: the real package
    manifest = json.loads((package_folder(tmp_path, draft=False) / "manifest.json").read_text(encoding="utf-8"))
    assert "draft" not in manifest and len(manifest["files"]) == len(pack_for_year(PACKAGED).tables) + 1
    assert sorted(s["department"] for s in manifest["review"]["signoffs"]) == signed
    # issue 14, finding 1: three students lose their names and a later source fails, so the run rebuilds part
    # of the warehouse and stops before its rules. The package is refused now; the last good one stays.
    with sqlite3.connect(tmp_path / "demo" / "academic.sqlite") as src:
        src.execute("update XJ_XSJBXX set XM = '', GXSJ = '2027-01-05 09:00:00' "  # the vendor marks the change
                    "where XH in (select XH from XJ_XSJBXX order by XH limit 3)")  # fmt: skip
    (tmp_path / "demo" / "library.sqlite").rename(tmp_path / "demo" / "library.moved")
    res = CliRunner().invoke(main, ["run", "--year", PACKAGED, "--quiet"], env=ENV | {"STATEDATA_HOME": str(tmp_path)})
    assert res.exit_code == 1 and f"{PACKAGED} is UNVALIDATED" in res.stdout, res.output
    good = {p.name: p.read_bytes() for p in package_folder(tmp_path, draft=False).iterdir()}
    res = CliRunner().invoke(main, ["package", "--year", PACKAGED], env=ENV | {"STATEDATA_HOME": str(tmp_path)})
    assert res.exit_code != 0 and "R-XS-010" in res.output and "检查后数据已变化" in res.output, res.output
    assert {p.name: p.read_bytes() for p in package_folder(tmp_path, draft=False).iterdir()} == good


# -- provenance: the lineage of aggregated cells -----------------------------------------------------------


def test_every_aggregated_cell_with_lineage_re_aggregates_from_its_source_rows(built):
    pack = pack_for_year(PACKAGED)
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as con:
        in_lineage = "select distinct table_name from lineage.cell where academic_year = ? order by 1"
        tables = [r[0] for r in con.execute(in_lineage, [PACKAGED]).fetchall()]
        aggregating = {"school_basic", "major", "land_building", "library", "equipment_assets", "finance",
                       "it_conditions", "indicator_input", "internship", "enrolment", "graduate_employment",
                       "teaching_workload", "practice_base"}  # fmt: skip
        assert aggregating <= set(tables)
        checked = 0
        for table in tables:
            template = next((t for t in pack.tables if t.source_table == table), None)
            # indicator_input is no national table: one row per input
            key = template.lineage_key_sql() if template else "input"
            columns = [r[0] for r in con.execute(
                "select distinct column_name from lineage.cell where table_name = ? and academic_year = ?",
                [table, PACKAGED]).fetchall()]  # fmt: skip
            cells = con.execute(
                "select distinct row_key, column_name from lineage.cell where table_name = ? and academic_year = ?",
                [table, PACKAGED],
            ).fetchall()
            # re-aggregate from the source rows (following cells named by via)
            sums = {(k, c): resolve(con, table, PACKAGED, k, c)[1] for k, c in cells}
            cols = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(
                f"select {key}, {cols} from platform.{table} where academic_year = ?", [PACKAGED]
            ).fetchall()
            assert rows and {k for k, _ in sums} <= {r[0] for r in rows}  # no lineage for a row that is not there
            for row_key, *values in rows:  # every cell of every lineage column, zeros included
                for column, value in zip(columns, values):
                    # 万元 are rounded to 4 places (an indicator input in 元 inherits that rounding: < 1e-7 of it)
                    expected = pytest.approx(float(value or 0), rel=1e-7, abs=1e-4)
                    assert sums.get((row_key, column), 0) == expected, (table, row_key, column)
                    checked += 1
        raw_tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()]  # fmt: skip
        known = " union all ".join(f"select _raw_id from raw.{t}" for t in raw_tables)
        dangling = con.execute(
            f"select count(*) from lineage.cell where academic_year = ? and _raw_id not in ({known})",
            [PACKAGED],
        ).fetchall()[0][0]
    assert checked > 100 and dangling == 0  # every contributing row is a source row version in raw


def q_first_student(home: Path) -> str:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select student_id from platform.student where academic_year = ? order by student_id limit 1", [PACKAGED]
        ).fetchall()[0][0]


def test_trace_explains_a_count_and_a_copied_cell_down_to_source_rows(built, tmp_path):
    doc = json.loads(cli(built, "trace", "A1", "4141099999", "全日制在校生数", "--year", PACKAGED, "--format", "json",
                         "--limit", "5000"))  # fmt: skip
    assert doc["kind"] == "aggregate" and doc["column"]["field"] == "students_enrolled"
    assert doc["source_rows"] == doc["value"] == doc["amounts_add_up_to"] == len(doc["rows"]) > 1000
    assert {(r["system"], r["table"]) for r in doc["rows"]} == {("academic", "XJ_XSJBXX")}
    assert all(r["values"]["name"].endswith("*") for r in doc["rows"] if r["values"]["name"])  # masked
    assert doc["sql"] == "warehouse/sql/platform/school_basic.sql" and doc["lineage_run"]
    copied = json.loads(cli(built, "trace", "school_basic", "4141099999", "school_name", "--year", PACKAGED,
                            "--format", "json"))  # fmt: skip
    assert copied["kind"] == "row" and copied["rows"][0]["values"]["school_name"] == copied["value"]
    # a personal value traced is masked in the headline too, unless revealed
    student = q_first_student(built)
    person = json.loads(cli(built, "trace", "A10-1", student, "姓名", "--year", PACKAGED, "--format", "json"))
    revealed = json.loads(cli(built, "trace", "A10-1", student, "姓名", "--year", PACKAGED, "--format", "json",
                              "--reveal"))  # fmt: skip
    assert revealed["value"] and person["value"] != revealed["value"]
    assert person["value"] == revealed["value"][0] + "*" * (len(revealed["value"]) - 1)
    text = cli(built, "trace", "A10-1", student, "姓名", "--year", PACKAGED)
    assert revealed["value"] not in text and f"value: {person['value']}" in text
    page = tmp_path / "trace.html"
    cli(
        built, "trace", "A1", "4141099999", "全日制在校生数", "--year", PACKAGED, "--format", "html", "--out", str(page)
    )
    html = page.read_text(encoding="utf-8")
    assert f'<p class="value">{doc["value"]}</p>' in html and 'href="#rows"' in html and "school_basic.sql" in html
    assert html.count("<tr>") == 21 and "XJ_XSJBXX" in html  # the first 20 rows under the header
    names = re.findall(r"<br>name = ([^<]+)<br>", html)
    assert len(names) == 20 and all(n[1:] == "*" * len(n[1:]) for n in names) and "已遮蔽" in html  # masked
    out = cli(built, "trace", "A7-1-1", "440301|", "classes", "--year", PACKAGED, "--limit", "1")
    assert "their amounts add up to" in out and "✓" in out
    res = CliRunner().invoke(main, ["trace", "A7-1-1", "999999|", "classes", "--year", PACKAGED],
                             env=ENV | {"STATEDATA_HOME": str(built)})  # fmt: skip
    assert res.exit_code == 1 and "has no row '999999|'" in res.output and "'440301|'" in res.output


def test_every_core_indicator_traces_to_the_source_rows_of_its_inputs(built):
    from reporting import indicators

    for ind in indicators.load_definitions()["indicators"]:
        doc = json.loads(cli(built, "trace", "--indicator", ind["name"], "--year", PACKAGED, "--format", "json"))
        assert doc["formula"] == ind["formula"].text and doc["inputs"], ind["name"]
        for i in doc["inputs"]:
            if i["source"].startswith("constant"):
                continue
            # every input read from the tables has source rows, and they add up to its value
            assert i["source_rows"] > 0 or i["value"] == 0, (ind["name"], i["id"])
            if i["source_rows"]:
                assert i["amounts_add_up_to"] == pytest.approx(i["value"], rel=1e-7, abs=1e-4), (ind["name"], i["id"])
    res = CliRunner().invoke(main, ["trace", "--indicator", "幸福指数"], env=ENV | {"STATEDATA_HOME": str(built)})
    assert res.exit_code == 1 and "生师比" in res.output


def test_trace_verify_reports_source_rows_changed_or_vanished_since_extraction(built, tmp_path):
    live = tmp_path / "academic.sqlite"  # the academic system, changed after the nightly extraction
    shutil.copy(built / "demo" / "academic.sqlite", live)
    args = ["trace", "A1", "4141099999", "students_enrolled", "--year", PACKAGED, "--format", "json", "--verify"]
    env = ENV | {"STATEDATA_HOME": str(built), "STATEDATA_ACADEMIC_URL": f"sqlite:///{live}"}
    before = json.loads(CliRunner().invoke(main, args + ["--limit", "3"], env=env).output)
    assert before["verify"] == {"changed": [], "vanished": [], "unchanged": before["value"], "checked": before["value"]}
    renamed, gone = (r["key"] for r in before["rows"][:2])
    with sqlite3.connect(live) as src:
        src.execute("update XJ_XSJBXX set XM = '改名' where XH = ?", [renamed])
        src.execute("delete from XJ_XSJBXX where XH = ?", [gone])
    res = CliRunner().invoke(main, args + ["--limit", "3"], env=env)
    after = json.loads(res.output)
    assert after["verify"]["changed"] == [renamed] and after["verify"]["vanished"] == [gone]
    assert after["verify"]["unchanged"] == before["value"] - 2
    assert after["rows"][0]["verify"] == "changed" and after["rows"][0]["changed_fields"] == ["name"]
    text = CliRunner().invoke(main, [a for a in args if a not in ("--format", "json")], env=env).output
    assert f"vanished: academic.XJ_XSJBXX {gone}" in text and f"changed: academic.XJ_XSJBXX {renamed} (name)" in text


def test_a_package_snapshot_traces_it_and_rebuilds_it_byte_for_byte_without_the_warehouse(built, tmp_path):
    from reporting.package import build_package

    (snapshot,) = (built / "snapshots").glob("*.duckdb")  # written by `statedata package` (the fixture's)
    later = tmp_path / "later"  # years later: no warehouse, only the snapshot
    (later / "snapshots").mkdir(parents=True)
    shutil.copy(snapshot, later / "snapshots")
    args = ["trace", "A1", "4141099999", "全日制在校生数", "--format", "json", "--limit", "50"]
    then = json.loads(cli(later, *args, "--snapshot", str(package_folder(built))))
    now = json.loads(cli(built, *args, "--year", PACKAGED))
    assert then["value"] == now["value"] and then["rows"] == now["rows"] and then["snapshot"].endswith(snapshot.name)
    assert not (later / "warehouse.duckdb").exists()
    zipped = str(package_folder(built)) + ".zip"
    indicator = json.loads(cli(later, "trace", "--indicator", "生师比", "--snapshot", zipped, "--format", "json"))
    assert indicator["value"] > 0 and all(i["source_rows"] for i in indicator["inputs"] if i["value"])
    manifest = json.loads((package_folder(built) / "manifest.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(later / "snapshots" / snapshot.name), read_only=True) as con:
        rebuilt = build_package(
            con, pack_for_year(PACKAGED), PACKAGED, tmp_path / "rebuilt", manifest["blocking_rules"],
            review=manifest["review"],  # the portal's record is the manifest's, not the warehouse's
        )  # fmt: skip
    assert rebuilt.zip_path.read_bytes() == (built / "out" / "packages" / rebuilt.zip_path.name).read_bytes()


def test_every_cell_of_every_national_table_and_indicator_is_explained_by_source_rows(built):
    """All cells, not a sample: an aggregated cell re-aggregates from its lineage (the test above checks
    the sums); a copied cell's row names source row versions that exist in raw; every core indicator,
    recomputed from its inputs' source rows alone, equals the reported value."""
    from reporting import indicators

    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as con:
        raw_tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()]  # fmt: skip
        known = " union all ".join(f"select _raw_id from raw.{t}" for t in raw_tables)
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.columns where table_schema = 'platform' "
            "and column_name = '_raw_ids' order by 1").fetchall()]  # fmt: skip
        cells = 0
        for table in tables:
            columns = [r[0] for r in con.execute(f"describe platform.{table}").fetchall()]
            with_lineage = {r[0] for r in con.execute(
                "select distinct column_name from lineage.cell where table_name = ? and academic_year = ?",
                [table, PACKAGED]).fetchall()}  # fmt: skip
            copied = [c for c in columns if c not in with_lineage | {"academic_year", "_raw_ids"}]
            rows, unexplained = con.execute(
                f"""with r as (select row_number() over () as rn, _raw_ids from platform.{table}
                               where academic_year = ?),
                         ids as (select rn, unnest(_raw_ids) as id from r)
                    select (select count(*) from r),
                           (select count(*) from r where len(_raw_ids) = 0)
                           + (select count(distinct rn) from ids where id not in ({known}))""",
                [PACKAGED],
            ).fetchall()[0]
            assert unexplained == 0 or not copied, (table, unexplained)  # a copied cell names its source rows
            cells += rows * len(columns)
        assert len(tables) >= 25 and cells > 50_000
        # the indicators, recomputed from the source rows behind each input (not from indicator_input)
        inputs = {
            name: resolve(con, "indicator_input", PACKAGED, name, "value")[1]
            for (name,) in con.execute(
                "select input from platform.indicator_input where academic_year = ?", [PACKAGED]
            ).fetchall()
        }
        query = "select indicator_id, value from platform.core_indicator where academic_year = ?"
        reported = dict(con.execute(query, [PACKAGED]).fetchall())
    defs = indicators.load_definitions()
    for i in indicators.evaluate(inputs, defs):
        assert reported[i["indicator_id"]] == pytest.approx(i["value"], abs=0.006), i["indicator_id"]


def test_files_written_in_the_second_process_are_the_files_written_here(built, tmp_path, monkeypatch):
    """export_year shares the files between two processes (warehouse/offload.py); the bytes do not depend on it."""
    handed = []
    submit = offload.submit
    monkeypatch.setattr(export_module, "OFFLOAD_CELLS", 1)  # every table may go
    monkeypatch.setattr(offload, "submit", lambda fn, *args: handed.append(args[1].id) or submit(fn, *args))
    pack = pack_for_year(PACKAGED)
    with db.connect(built / "warehouse.duckdb", read_only=True) as con:
        shared = export_year(con, pack, PACKAGED, tmp_path / "shared")
        with offload.inline():
            alone = export_year(con, pack, PACKAGED, tmp_path / "alone")
    assert offload.available() and 0 < len(handed) < len(pack.tables)  # both processes wrote files
    assert [(f.path.name, f.rows, f.sha256) for f in shared] == [(f.path.name, f.rows, f.sha256) for f in alone]
    for f in shared:
        assert f.path.read_bytes() == (tmp_path / "alone" / f.path.name).read_bytes()
