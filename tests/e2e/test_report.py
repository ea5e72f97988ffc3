"""statedata report on the small demo run for two academic years (the session's run of ACADEMIC_YEAR, and the year
before run in a copy): the college report and every department's in docx and html, the numbers checked against the
warehouse with this test's own SQL, charts, trends, byte-identical rebuilds, what changed since the last draft, the
sample benchmarks marked as such, and no personal value anywhere."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import docx
import duckdb
import pytest
from click.testing import CliRunner
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from expectations.generated import rule_set
from model.settings import Settings
from pipelines.cli import main
from reporting.templates import pack_for_year
from tests.conftest import ACADEMIC_YEAR, YEAR, cli_env

PREVIOUS = f"{YEAR - 1}-{YEAR}"
SAMPLE = "示例数据，非真实统计"
TRACE = re.compile(r"\[T-\d+\]$")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def report(home: Path, *args: str):
    """`statedata report` in this process, on ``home``, with none of this shell's college settings."""
    unset = {
        k: None for k in os.environ if k.startswith(("STATEDATA_", "DAGSTER_")) and k != "STATEDATA_SOURCE_RETRY_DELAY"
    }
    return CliRunner().invoke(main, ["report", *args], env=unset | {"STATEDATA_HOME": str(home)})


@pytest.fixture(scope="module")
def two_years(ran_src, tmp_path_factory) -> Path:
    """A copy of the session's working folder with the previous academic year run as well (trends need two)."""
    home = tmp_path_factory.mktemp("report") / "home"
    shutil.copytree(ran_src[0], home, symlinks=True)
    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--year", PREVIOUS, "--quiet"],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return home


@pytest.fixture(scope="module")
def built(two_years) -> dict:
    res = report(two_years)
    assert res.exit_code == 0, res.output
    folder = two_years / "out" / "reports" / ACADEMIC_YEAR
    manifest = json.loads((folder / "report_manifest.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(two_years / "warehouse.duckdb"), read_only=True) as con:
        indicators = {
            (y, name): (unit, value)
            for y, name, unit, value in con.execute(
                "select academic_year, name, unit, value from platform.core_indicator"
            ).fetchall()
        }
        failing = dict(
            con.execute(
                """select rule_id, failing from audit.rule_result where academic_year = ?
                   qualify row_number() over (partition by rule_id order by checked_at desc) = 1 and not passed""",
                [ACADEMIC_YEAR],
            ).fetchall()
        )
        names = {
            n
            for (n,) in con.execute(
                "select name from platform.full_time_teacher union select name from platform.student "
                "union select name from platform.external_teacher"
            ).fetchall()
            if n and len(n) >= 3
        }
        rows = dict(
            con.execute(
                "select academic_year, count(*) from platform.full_time_teacher group by academic_year"
            ).fetchall()
        )
        phone = con.execute("select any_value(contact_phone) from platform.school_basic").fetchall()[0][0]
    return dict(home=two_years, folder=folder, output=res.output, manifest=manifest, indicators=indicators,
                failing=failing, names=names, teacher_rows=rows, phone=phone)  # fmt: skip


def departments() -> list[str]:
    settings = Settings.from_env({})
    owners = {settings.college.department(t.owner) for t in pack_for_year(ACADEMIC_YEAR).tables}
    return sorted(owners | {r.owner for r in rule_set(settings)})


def blocks(d):
    for block in d.iter_inner_content():
        yield block


def text_of(d) -> str:
    parts = [s.header.paragraphs[0].text for s in d.sections]
    for b in blocks(d):
        if isinstance(b, Paragraph):
            parts.append(b.text)
        else:
            parts += [c.text for row in b.rows for c in row.cells]
    return "\n".join(parts)


def tables(d) -> list[DocxTable]:
    return [b for b in blocks(d) if isinstance(b, DocxTable)]


def label(name: str, unit: str) -> str:
    return f"{name}（{unit}）" if unit else name


def shown(value) -> str:
    return "无法计算" if value is None else f"{value:,.2f}"


def docx_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.docx"))


def test_the_college_report_and_every_departments_are_written_in_docx_and_html(built):
    folder, manifest = built["folder"], built["manifest"]
    expected = {f"4141099999_{ACADEMIC_YEAR}_{who}_数据分析报告.{fmt}" for who in ["学校", *departments()]
                for fmt in ("docx", "html")}  # fmt: skip
    assert {p.name for p in folder.iterdir() if p.suffix in (".docx", ".html")} == expected
    assert {f["file"] for f in manifest["files"]} == expected
    assert manifest["academic_year"] == ACADEMIC_YEAR and manifest["years"] == [PREVIOUS, ACADEMIC_YEAR]
    assert re.fullmatch(r"b\d+-[0-9a-f]{12}", manifest["warehouse_snapshot"])
    assert manifest["figures"]["indicators"]["生师比"] == built["indicators"][(ACADEMIC_YEAR, "生师比")][1]
    for f in manifest["files"]:
        assert hashlib.sha256((folder / f["file"]).read_bytes()).hexdigest() == f["sha256"]
    assert "written as a DRAFT" in built["output"] and "Changes: the year's first draft" in built["output"]


def test_every_indicator_value_printed_equals_the_warehouse_figure(built):
    wanted = built["indicators"]
    names = {name for _, name in wanted}
    labels = {label(name, unit): name for (_, name), (unit, _) in wanted.items()}
    checked = 0
    for path in docx_files(built["folder"]):
        d = docx.Document(str(path))
        for t in tables(d):
            header = [c.text for c in t.rows[0].cells]
            years = {}
            for n, h in enumerate(header):
                m = re.search(r"(\d{4}-\d{4})", h)
                if m and (h.endswith("学年") or h.startswith("本校值")):
                    years[n] = m.group(1)
                elif h == "本校值":  # the benchmark table: the report's year
                    years[n] = ACADEMIC_YEAR
            for row in t.rows[1:]:
                cells = [c.text for c in row.cells]
                if cells[0] not in labels:
                    continue
                for n, year in years.items():
                    assert TRACE.search(cells[n]), (path.name, cells)
                    assert TRACE.sub("", cells[n]) == shown(wanted[(year, labels[cells[0]])][1]), (path.name, cells)
                    checked += 1
        for p in d.paragraphs:  # the text: "生均图书为 28.47[T-12]册", "生师比由 13.63[T-1] 变为 13.19[T-2]"
            for name in names:
                for m in re.finditer(rf"{re.escape(name)}由 ([\d,.]+)\[T-\d+\] 变为 ([\d,.]+)\[T-\d+\]", p.text):
                    assert m.group(1) == shown(wanted[(PREVIOUS, name)][1]) and m.group(2) == shown(
                        wanted[(ACADEMIC_YEAR, name)][1]
                    ), p.text
                    checked += 1
                for m in re.finditer(rf"{re.escape(name)}为? ([\d,.]+)\[T-\d+\]", p.text):
                    assert m.group(1) == shown(wanted[(ACADEMIC_YEAR, name)][1]), p.text
                    checked += 1
    assert checked > 13 * 4, checked  # the college's indicator, trend and benchmark tables at least


def test_every_chart_referenced_is_in_the_files(built):
    folder, manifest = built["folder"], built["manifest"]
    by_file = {f["file"]: f for f in manifest["files"]}
    college = by_file[f"4141099999_{ACADEMIC_YEAR}_学校_数据分析报告.docx"]
    assert len(college["charts"]) == 4  # indicator trends, students per major, teachers and failing rules per dept
    for name, f in by_file.items():
        if name.endswith(".docx"):
            d = docx.Document(str(folder / name))
            assert len(d.inline_shapes) == len(f["charts"]) >= 1, name
            for shape in d.inline_shapes:
                blob = d.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
                assert blob.startswith(b"\x89PNG") and len(blob) > 1000
        else:
            page = (folder / name).read_text(encoding="utf-8")
            images = re.findall(r'<img src="data:image/png;base64,([^"]*)"', page)
            assert len(images) == len(f["charts"]), name
            assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
            links, anchors = set(re.findall(r'href="#(T-\d+)"', page)), set(re.findall(r'<tr id="(T-\d+)"', page))
            assert links == anchors and links, name  # every trace link has its appendix entry, and vice versa


def test_the_trend_table_has_both_years(built):
    d = docx.Document(str(built["folder"] / f"4141099999_{ACADEMIC_YEAR}_学校_数据分析报告.docx"))
    trend = next(t for t in tables(d) if [c.text for c in t.rows[0].cells][-1] == "合格标准")
    assert [c.text for c in trend.rows[0].cells][1:3] == [f"{PREVIOUS} 学年", f"{ACADEMIC_YEAR} 学年"]
    assert len(trend.rows) == 1 + 13
    for row in trend.rows[1:]:
        assert all(TRACE.search(c.text) for c in row.cells[1:3])


def test_the_failing_rules_are_listed_with_owner_count_and_no_explanation_yet(built):
    d = docx.Document(str(built["folder"] / f"4141099999_{ACADEMIC_YEAR}_学校_数据分析报告.docx"))
    rules = next(t for t in tables(d) if [c.text for c in t.rows[0].cells][:3] == ["规则", "级别", "责任部门"])
    listed = {r.cells[0].text: (TRACE.sub("", r.cells[4].text), r.cells[5].text) for r in rules.rows[1:]}
    assert listed == {rule: (f"{n:,}", "尚无情况说明") for rule, n in built["failing"].items()}
    text = text_of(d)
    assert "尚无签核" in text and "草稿" in d.sections[0].header.paragraphs[0].text


def test_a_department_report_lists_its_tables_rules_and_the_indicators_they_feed(built):
    d = docx.Document(str(built["folder"] / f"4141099999_{ACADEMIC_YEAR}_人事处_数据分析报告.docx"))
    owned = next(t for t in tables(d) if [c.text for c in t.rows[0].cells][:2] == ["表号", "表名"])
    a611 = next(r for r in owned.rows if r.cells[0].text == "A6-1-1")
    assert [TRACE.sub("", c.text) for c in a611.cells[2:4]] == [
        f"{built['teacher_rows'][y]:,}" for y in (PREVIOUS, ACADEMIC_YEAR)
    ]
    text = text_of(d)
    assert "生师比" in text and "双师素质教师比例" in text and "自我诊改" in text and "（待本部门填写）" in text
    assert "statedata failures --dept 人事处" in text


def test_a_rebuild_from_the_same_warehouse_is_byte_identical(built):
    folder = built["folder"]
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    res = report(built["home"])
    assert res.exit_code == 0, res.output
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_changed_figure_is_listed_in_what_changed_since_the_last_draft(built, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built["home"], home, symlinks=True)  # with the first draft's report_manifest.json
    old = built["indicators"][(ACADEMIC_YEAR, "生师比")][1]
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute(
            "update platform.core_indicator set value = value + 1 where academic_year = ? and name = '生师比'",
            [ACADEMIC_YEAR],
        )
    res = report(home, "--dept", "人事处", "--format", "docx")
    assert res.exit_code == 0, res.output
    assert f"生师比: {old:g} → {old + 1:g}" in res.output
    folder = home / "out" / "reports" / ACADEMIC_YEAR
    manifest = json.loads((folder / "report_manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"]["figures"] == [
        {"kind": "indicator", "name": "生师比", "old": old, "new": pytest.approx(old + 1)}
    ]
    assert [f["file"] for f in manifest["files"]] == [f"4141099999_{ACADEMIC_YEAR}_人事处_数据分析报告.docx"]
    d = docx.Document(str(folder / f"4141099999_{ACADEMIC_YEAR}_人事处_数据分析报告.docx"))
    changed = next(t for t in tables(d) if [c.text for c in t.rows[0].cells] == ["项目", "上一稿", "本稿"])
    assert [[TRACE.sub("", c.text) for c in r.cells] for r in changed.rows[1:]] == [
        ["生师比", shown(old), shown(old + 1)]
    ]


def test_the_sample_benchmarks_are_marked_as_sample_wherever_used(built):
    folder = built["folder"]
    bench = built["manifest"]["benchmarks"]
    assert (bench["file"], bench["sample"]) == ("analysis/benchmarks_sample.csv", True)
    assert "SAMPLE data" in built["output"]
    d = docx.Document(str(folder / f"4141099999_{ACADEMIC_YEAR}_学校_数据分析报告.docx"))
    bench = next(t for t in tables(d) if [c.text for c in t.rows[0].cells][4:7] == ["P25", "中位数", "P75"])
    assert all(r.cells[-1].text.endswith(f"（{SAMPLE}）") for r in bench.rows[1:])
    assert f"其中标注的数字为{SAMPLE}" in text_of(d)
    page = (folder / f"4141099999_{ACADEMIC_YEAR}_学校_数据分析报告.html").read_text(encoding="utf-8")
    assert f"与同类院校比较（{ACADEMIC_YEAR}）——{SAMPLE}" in page


def test_no_personal_value_appears_in_any_output(built):
    folder = built["folder"]
    texts = {}
    for path in docx_files(folder):
        texts[path.name] = text_of(docx.Document(str(path)))
    for path in folder.glob("*.html"):
        texts[path.name] = re.sub(r"base64,[^\"]*", "", path.read_text(encoding="utf-8"))
    manifest = json.loads((folder / "report_manifest.json").read_text(encoding="utf-8"))
    texts["report_manifest.json"] = re.sub(r'"sha256": "[0-9a-f]+"', "", json.dumps(manifest, ensure_ascii=False))
    assert built["names"] and built["phone"]
    for name, text in texts.items():
        assert not ID_NUMBER.search(text), (name, ID_NUMBER.search(text).group(0))
        assert not PHONE.search(text), (name, PHONE.search(text).group(0))
        assert built["phone"] not in text, name
        assert not [n for n in built["names"] if n in text], name


def test_an_unknown_department_or_a_year_without_data_is_refused(built):
    res = report(built["home"], "--dept", "后勤处", "--out", str(built["home"] / "elsewhere"))
    assert res.exit_code == 1 and "no national table or rule is owned by '后勤处'" in res.output
    assert "人事处" in res.output
    res = report(built["home"], "--year", "2019-2020", "--out", str(built["home"] / "elsewhere"))
    assert res.exit_code == 1 and "no core indicators for 2019-2020" in res.output
    assert not list((built["home"] / "elsewhere").glob("*.docx"))


def test_the_command_is_listed_in_the_help():
    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0 and "report" in res.output and "drafted from the data" in res.output


def test_the_html_report_works_in_a_real_browser(built):
    """Debian's Chromium (CI installs it) opens the college report: every chart image decodes, and a number's
    trace mark leads to its appendix row, which names the command that explains the number."""
    from playwright.sync_api import sync_playwright

    from scripts.report_screenshots import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    (page_file,) = built["folder"].glob("*_学校_数据分析报告.html")
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.resolve().as_uri())
        sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
        assert sizes and all(done and width > 100 for done, width in sizes), sizes
        link = page.locator("sup a", has_text="T-03").first  # the first indicator's value
        link.click()
        assert page.evaluate("location.hash") == "#T-03"
        row = page.locator("tr:target")
        assert row.count() == 1 and row.is_visible()
        assert "statedata trace" in row.inner_text()
        browser.close()
    assert errors == []
