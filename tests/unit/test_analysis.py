"""The pure parts of the analysis report (analysis/): peer-benchmark placement and the benchmark file, the change
list against the last draft, the report's configuration, number formatting, and byte-identical docx and charts."""

import io
import time
import warnings
import zipfile
from datetime import datetime, timezone

import docx
import duckdb
import pytest

from analysis import benchmarks as bm
from analysis import charts
from analysis.build import baseline, change_list, state_of
from analysis.charts import BarChart, TrendChart
from analysis.config import AREAS, ConfigError, Measure, check_indicators, load_areas, load_breakdowns
from analysis.content import ContentError, display_sql, measure
from analysis.document import Document, Figure, Heading, Num, Para, Table, chinese, number, signed
from analysis.docx import fixed_zip, to_docx
from analysis.html import to_html
from reporting.indicators import load_definitions
from reporting.package import ZIP_TIME

# -- benchmarks -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (9.99, bm.BELOW),
        (10, bm.LOWER),  # p25 itself belongs to the band above it
        (14.9, bm.LOWER),
        (15, bm.UPPER),  # the median too
        (20, bm.UPPER),  # p75 is still median–p75
        (20.01, bm.ABOVE),
        (None, "无法计算"),
    ],
)
def test_placement_among_the_quartiles(value, expected):
    assert bm.placement(value, 10, 15, 20) == expected


def write(tmp_path, text: str):
    path = tmp_path / "benchmarks.csv"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "indicator,school_type,scope,year,p25,median,p75,source,sample\n"


def test_the_school_type_row_wins_over_the_all_types_row_and_the_newest_year_over_older(tmp_path):
    rows = bm.load(
        write(
            tmp_path,
            "# a comment line\n" + HEADER + "生师比,*,全国,2024,1,2,3,a,\n"
            "生师比,综合,全国,2023,4,5,6,b,\n"
            "生师比,综合,全国,2024,7,8,9,c,\n"
            "student_teacher_ratio,综合,河南省,2024,10,11,12,d,\n"
            "生师比,工科,全国,2024,13,14,15,e,\n",
        )
    )
    chosen = bm.for_indicator(rows, "student_teacher_ratio", "生师比", "综合")
    assert [(b.scope, b.source, b.line) for b in chosen] == [("全国", "c", 5), ("河南省", "d", 6)]
    assert [b.source for b in bm.for_indicator(rows, "student_teacher_ratio", "生师比", "医学")] == ["a"]
    assert not any(b.sample for b in rows)


@pytest.mark.parametrize(
    "line, message",
    [
        ("生师比,综合,全国,2024,3,2,1,a,", "p25 <= median <= p75"),
        ("生师比,综合,全国,2024,x,2,3,a,", "must be numbers"),
        (",综合,全国,2024,1,2,3,a,", "indicator is empty"),
    ],
)
def test_a_bad_benchmark_line_is_named(tmp_path, line, message):
    with pytest.raises(bm.BenchmarkError, match=rf"line 2: .*{message}"):
        bm.load(write(tmp_path, HEADER + line + "\n"))


def test_a_missing_column_is_named(tmp_path):
    with pytest.raises(bm.BenchmarkError, match="missing column.*sample"):
        bm.load(write(tmp_path, "indicator,school_type,scope,year,p25,median,p75,source\n"))


def test_the_shipped_sample_is_marked_as_sample_on_every_row_and_in_its_header():
    text = bm.SAMPLE.read_text(encoding="utf-8")
    assert text.startswith(f"# {bm.SAMPLE_MARK}")
    rows = bm.load(bm.SAMPLE)
    assert rows and all(b.sample == bm.SAMPLE_MARK for b in rows)
    names = {i["name"] for i in load_definitions()["indicators"]}
    assert {b.indicator for b in rows} == names  # every core indicator has a sample row


def test_a_college_file_replaces_the_sample(tmp_path):
    assert bm.location(tmp_path) == bm.SAMPLE
    own = write(tmp_path, HEADER)
    assert bm.location(tmp_path) == own
    assert bm.location(None) == bm.SAMPLE


# -- what changed since the last draft ----------------------------------------------------------------------------

FIGURES = {"indicators": {"生师比": 13.19, "生均图书": 28.47}, "figures": {"专任教师": 141.0}}
FAILING = {"R-XS-001": {"owner": "学生工作处", "failing": 2}, "R-JS-011": {"owner": "人事处", "failing": 4}}


def manifest(state: str, figures=FIGURES, failing=FAILING, base=None, year="2026-2027") -> dict:
    return dict(academic_year=year, state=state, warehouse_snapshot="b1-aaa", data_as_of="2026-11-01T02:00:00+08:00",
                figures=figures, failing_rules=failing, baseline=base)  # fmt: skip


def test_the_first_draft_says_so():
    assert change_list(None, FIGURES, FAILING) == {"first": True}
    assert baseline(None, "2026-2027", "s1") is None
    assert baseline(manifest("s0", year="2025-2026"), "2026-2027", "s1") is None  # another year's draft


def test_a_new_state_compares_with_the_last_draft_and_a_rebuild_with_what_that_draft_compared_with():
    last = manifest("s1", base={"state": "s0", "warehouse_snapshot": "b0-zzz"})
    assert baseline(last, "2026-2027", "s2")["state"] == "s1"
    assert baseline(last, "2026-2027", "s1") == {"state": "s0", "warehouse_snapshot": "b0-zzz"}
    assert baseline(manifest("s1"), "2026-2027", "s1") is None  # a rebuild of the first draft is the first draft


def test_the_change_list_names_changed_figures_and_rules_newly_failing_passing_or_recounted():
    figures = {"indicators": {"生师比": 13.5, "生均图书": 28.47, "新指标": 1.0}, "figures": {}}
    failing = {"R-XS-001": {"owner": "学生工作处", "failing": 3}, "R-ZC-001": {"owner": "资产管理处", "failing": 1}}
    c = change_list(manifest("s1"), figures, failing)
    assert c["first"] is False and c["since"] == "b1-aaa" and c["since_as_of"] == "2026-11-01 02:00"
    assert c["figures"] == [
        {"kind": "indicator", "name": "生师比", "old": 13.19, "new": 13.5},
        {"kind": "indicator", "name": "新指标", "old": None, "new": 1.0},
        {"kind": "figure", "name": "专任教师", "old": 141.0, "new": None},
    ]
    assert c["newly_failing"] == [{"id": "R-ZC-001", "owner": "资产管理处", "failing": 1}]
    assert c["newly_passing"] == [{"id": "R-JS-011", "owner": "人事处", "failing": 4}]
    assert c["count_changed"] == [{"id": "R-XS-001", "owner": "学生工作处", "old": 2, "new": 3}]
    same = change_list(manifest("s1"), FIGURES, FAILING)
    assert not (same["figures"] or same["newly_failing"] or same["newly_passing"] or same["count_changed"])


def test_the_state_hash_changes_with_any_figure_rule_or_snapshot():
    s = state_of("2026-2027", "b1", FIGURES, FAILING)
    assert s == state_of("2026-2027", "b1", dict(FIGURES), dict(FAILING))
    assert s != state_of("2026-2027", "b2", FIGURES, FAILING)
    assert s != state_of("2026-2027", "b1", {"indicators": {"生师比": 13.2}, "figures": {}}, FAILING)
    assert s != state_of("2026-2027", "b1", FIGURES, {})


# -- configuration and wording ------------------------------------------------------------------------------------


def test_the_shipped_areas_and_breakdowns_name_known_indicators_and_inputs():
    areas, breakdowns = load_areas(), load_breakdowns()
    check_indicators(areas, breakdowns, load_definitions())
    assert [a.name for a in areas][:2] == ["办学条件", "师资队伍"]
    assert "vocational_students" in breakdowns and all(b.measure.by for v in breakdowns.values() for b in v)


def test_a_bad_area_is_named(tmp_path):
    path = tmp_path / "areas.yaml"
    path.write_text("areas:\n  - {name: X, figures: [{label: a, table: t, count: rows, sum: c}]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"areas\[0\] \(X\): figures\[0\]: count or sum"):
        load_areas(path)
    path.write_text(AREAS.read_text(encoding="utf-8").replace("label: 学费收入", "label: 学校总收入"), encoding="utf-8")
    with pytest.raises(ConfigError, match="used twice"):
        load_areas(path)


def test_the_reader_query_writes_values_as_literals():
    m = Measure("finance", sum="amount_10k", where=(("direction", ("收入",)), ("item_no", (0,)), ("ok", (True,))))
    assert display_sql(m, ["2026-2027"]) == (
        "select sum(amount_10k) from platform.finance where academic_year = '2026-2027' and direction = '收入' "
        "and item_no = 0 and ok = true"
    )
    grouped = Measure("student", by="major_name", where=(("kind", ("a'b", "c")),))
    assert display_sql(grouped, ["2025-2026", "2026-2027"]) == (
        "select academic_year, major_name, count(*) from platform.student where academic_year in ('2025-2026', "
        "'2026-2027') and kind in ('a''b', 'c') group by academic_year, major_name order by academic_year, major_name"
    )


@pytest.fixture
def platform():
    con = duckdb.connect()
    con.execute("create schema platform")
    con.execute("create table platform.student (academic_year varchar, major_name varchar, name varchar, kind varchar)")
    con.execute(
        "insert into platform.student values ('2025-2026', '护理', '张三丰', 'a'), "
        "('2026-2027', '护理', '李四光', 'a'), ('2026-2027', '软件技术', '王五六', 'b'), "
        "('2026-2027', null, '赵六七', 'a')"
    )
    yield con
    con.close()


def test_a_measure_counts_per_group_and_year_over_the_rows_selected(platform):
    m = Measure("student", by="major_name", where=(("kind", ("a",)),))
    assert measure(platform, m, ["2025-2026", "2026-2027"]) == {
        "2025-2026": {"护理": 1.0},
        "2026-2027": {"护理": 1.0, None: 1.0},
    }
    assert measure(platform, Measure("no_such_table"), ["2026-2027"]) is None


@pytest.mark.parametrize(
    "m, message",
    [
        (Measure("student", by="name"), "personal values"),
        (Measure("student", where=(("name", ("张三丰",)),)), "personal values"),
        (Measure("student", sum="no_such_column"), "no column"),
    ],
)
def test_a_measure_never_groups_or_filters_by_a_personal_field_nor_reads_an_unknown_column(platform, m, message):
    with pytest.raises(ContentError, match=message):
        measure(platform, m, ["2026-2027"])


def test_numbers_are_printed_with_thousands_separators_and_fixed_decimals():
    assert number(101935.7234, 2) == "101,935.72"
    assert number(2038.0) == "2,038"
    assert number(None) == "—"
    assert (signed(68), signed(-11.5, 1), signed(0)) == ("+68", "-11.5", "±0")
    assert [chinese(n) for n in (1, 10, 11, 14, 20, 23)] == ["一", "十", "十一", "十四", "二十", "二十三"]


# -- byte-identical documents and charts ---------------------------------------------------------------------------

BAR = BarChart("各专业在校生数", "人", (("护理", 257.0), ("软件技术", 185.0)), previous=(("护理", 246.0),),
               legend=("2026-2027", "2025-2026"))  # fmt: skip
TREND = TrendChart("核心指标趋势", ("2025-2026", "2026-2027"), (("生师比", "", (13.63, 13.19), 18.0, None),))


def small_document() -> Document:
    return Document(
        "college",
        None,
        "示例职业技术学院2026-2027学年人才培养工作状态数据分析报告",
        True,
        "草稿（尚无签核）",
        "人才培养工作状态数据分析报告",
        [
            Heading("一、报告说明", 1),
            Para(("生师比为 ", Num("13.19", "T-01"), "。")),
            Para(("尚无签核。",), "List Bullet"),
            Table("核心指标", ("指标（单位）", "本校值"), (("生师比", Num("13.19", "T-01")),), (False, True)),
            Figure(BAR, ("各专业在校生数", Num("", "T-02"))),
            Table(
                "数据溯源",
                ("编号", "数字", "重现方法"),
                (("T-01", "生师比", "statedata trace --indicator 生师比"), ("T-02", "学生", "仓库查询")),
                (False, False, False),
                anchors=("T-01", "T-02"),
            ),  # fmt: skip
        ],
    )


def test_the_docx_is_byte_identical_whatever_the_clock_and_uses_word_styles(monkeypatch):
    when = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
    images = {BAR: charts.render(BAR)}
    first = to_docx(small_document(), images, when, "b1-aaa")
    later = time.localtime(time.time() + 400 * 86400)  # the clock python-docx's zip entries would carry
    monkeypatch.setattr(time, "localtime", lambda *_: later)
    assert to_docx(small_document(), images, when, "b1-aaa") == first
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {ZIP_TIME}
        assert z.namelist()[0] == "[Content_Types].xml"
    d = docx.Document(io.BytesIO(first))
    assert d.core_properties.created == d.core_properties.modified == when
    assert d.core_properties.revision == 1 and d.core_properties.author == "statedata"
    styles = {p.style.name for p in d.paragraphs}
    assert {"Title", "Heading 1", "Normal", "List Bullet", "Caption"} <= styles
    assert {t.style.name for t in d.tables} == {"Table Grid"}
    assert len(d.inline_shapes) == 1
    assert d.tables[0].rows[1].cells[1].text == "13.19[T-01]"  # the trace id, a superscript link
    text = next(p for p in d.paragraphs if p.text.startswith("生师比为"))
    assert text.text == "生师比为 13.19[T-01]。"
    assert 'w:anchor="T_01"' in text._p.xml and 'w:name="T_01"' in d.tables[1]._tbl.xml
    assert "草稿" in d.sections[0].header.paragraphs[0].text


def test_rewriting_a_zip_fixes_its_entry_times_and_keeps_its_order():
    def made(when):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name in ("b.xml", "a.xml"):
                z.writestr(zipfile.ZipInfo(name, date_time=when), b"<x/>")
        return buf.getvalue()

    one, two = made((2026, 1, 1, 0, 0, 0)), made((2027, 6, 1, 12, 30, 0))
    assert one != two and fixed_zip(one) == fixed_zip(two)
    with zipfile.ZipFile(io.BytesIO(fixed_zip(one))) as z:
        assert z.namelist() == ["b.xml", "a.xml"]


def test_the_html_has_links_to_the_appendix_and_the_chart_inline():
    page = to_html(small_document(), {BAR: charts.render(BAR)})
    assert '<sup><a href="#T-01">[T-01]</a></sup>' in page and '<tr id="T-01">' in page
    assert page.count('<img src="data:image/png;base64,') == 1
    assert '<p class="draft">草稿（尚无签核）</p>' in page and "<ul>\n<li>尚无签核。</li>\n</ul>" in page


def test_charts_are_byte_identical_png_without_a_software_stamp():
    for chart in (BAR, TREND):
        png = charts.render(chart)
        assert png.startswith(b"\x89PNG") and png == charts.render(chart)
        assert b"Software" not in png and b"matplotlib" not in png.lower()


def test_without_a_cjk_font_the_charts_are_drawn_with_a_warning(monkeypatch):
    charts.cjk_font.cache_clear()
    monkeypatch.setattr(charts, "CJK_FONTS", ("No Such Font",))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            png = charts.render(BAR)
        assert png.startswith(b"\x89PNG")
        assert [w for w in caught if issubclass(w.category, charts.NoCJKFont)]
    finally:
        charts.cjk_font.cache_clear()


def test_a_cjk_font_installed_after_matplotlib_listed_the_fonts_is_found(monkeypatch):
    charts.cjk_font.cache_clear()
    assert charts.cjk_font() is not None, "no CJK font on this machine (.ci/run installs fonts-wqy-microhei)"
    fonts = charts.font_manager.fontManager
    cjk_files = {f.fname for f in fonts.ttflist if f.name in charts.CJK_FONTS}
    monkeypatch.setattr(fonts, "ttflist", [f for f in fonts.ttflist if f.fname not in cjk_files])  # listed before
    charts.cjk_font.cache_clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", charts.NoCJKFont)
            assert charts.cjk_font() in charts.CJK_FONTS
    finally:
        charts.cjk_font.cache_clear()
