"""The report in words: the content (analysis/content.py) laid out as a document of headings, paragraphs, tables
and figures, in Chinese, that the docx and html writers render alike. Every number is a ``Num`` carrying the id of
its trace (``T-07``), and the appendix lists each trace with what it is and the command (or read-only query, or
file and line) that shows where it comes from. Trace ids are numbered in the order the text first uses them, so the
same content gives the same document.
"""

from dataclasses import dataclass, field

from analysis.benchmarks import SAMPLE_MARK
from analysis.charts import BarChart, TrendChart
from analysis.config import Measure
from analysis.content import College, Department, Indicator, Move, display_sql
from reporting.review_list import NO_LIMIT

CN = "一二三四五六七八九十"
SIGN = {"<=": "≤", ">=": "≥"}
NO_EXPLANATION = "尚无情况说明"
SEVERITY = {"error": "错误", "warning": "警告"}


@dataclass(frozen=True)
class Num:
    """A number as printed, and its trace id."""

    text: str
    trace: str | None = None


@dataclass(frozen=True)
class Heading:
    text: str
    level: int


@dataclass(frozen=True)
class Para:
    parts: tuple  # str | Num
    style: str = "Normal"  # or "List Bullet"


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple, ...]  # cells: str | Num | tuple of parts
    numeric: tuple[bool, ...]  # right-aligned columns
    anchors: tuple[str, ...] = ()  # html ids of the rows (the appendix's trace ids)


@dataclass(frozen=True)
class Figure:
    chart: TrendChart | BarChart
    caption: tuple  # parts


@dataclass(frozen=True)
class Trace:
    id: str
    what: str
    command: str


@dataclass
class Document:
    kind: str  # college | department
    department: str | None
    title: str
    draft: bool
    banner: str  # the draft mark under the title and in the page header
    subject: str
    blocks: list = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)

    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


class Traces:
    """The trace register of one document: one id per distinct trace, in the order of first use."""

    def __init__(self):
        self.by_key: dict[tuple, Trace] = {}

    def ref(self, key: tuple, what: str, command: str) -> str:
        if key not in self.by_key:
            self.by_key[key] = Trace(f"T-{len(self.by_key) + 1:02d}", what, command)
        return self.by_key[key].id

    def all(self) -> list[Trace]:
        return list(self.by_key.values())


def number(value: float | None, decimals: int = 0) -> str:
    """A figure as the report prints it: thousands separators, fixed decimals, — for no value."""
    if value is None:
        return "—"
    return f"{value:,.{decimals}f}"


def signed(delta: float | None, decimals: int = 0) -> str:
    if delta is None:
        return "—"
    text = number(abs(delta), decimals)
    return ("+" if delta > 0 else "-" if delta < 0 else "±") + text


def percent(old: float | None, new: float | None) -> str:
    if old in (None, 0) or new is None:
        return "—"
    return f"{(new - old) / abs(old) * 100:+.1f}%"


def chinese(n: int) -> str:
    """1 -> 一, 10 -> 十, 14 -> 十四, 23 -> 二十三 (section numbers)."""
    if n <= 10:
        return CN[n - 1]
    tens, ones = divmod(n, 10)
    return (CN[tens - 1] if tens > 1 else "") + "十" + (CN[ones - 1] if ones else "")


def standard(compare: str, threshold: float | None) -> str:
    return "—" if threshold is None else f"{SIGN.get(compare, compare)} {number(threshold, _dec(threshold))}"


def label(name: str, unit: str) -> str:
    return f"{name}（{unit}）" if unit else name


class Writer:
    """Composes one document: numbered sections, tables and figures, and the trace register."""

    def __init__(self, c: College):
        self.c = c
        self.traces = Traces()
        self.blocks: list = []
        self.sections = 0
        self.subsections = 0

    # -- traces ---------------------------------------------------------------------------------------------
    def t_indicator(self, i: Indicator, year: str) -> str:
        return self.traces.ref(
            ("indicator", i.id, year), f"{i.name}（{year}）", f"statedata trace --indicator {i.name} --year {year}"
        )

    def t_input(self, name: str, year: str) -> str:
        v = self.c.inputs[name]
        if v.cell:
            number_, key, column = v.cell
            command = f"statedata trace {number_} {key} {column} --year {year}"
        else:  # a count over a national table's rows: the indicator trace lists them, input by input
            using = next(i for i in self.c.indicators if name in i.inputs)
            command = f"statedata trace --indicator {using.name} --year {year}（输入项 {name}）"
        return self.traces.ref(("input", name, year), f"{v.label}（{year}）", command)

    def t_query(self, key: tuple, what: str, m: Measure, years: list[str]) -> str:
        return self.traces.ref(key, what, "仓库查询（只读）：" + display_sql(m, years))

    def t_figure(self, f, year: str) -> str:
        if f.cell:
            number_, key, column = f.cell
            return self.traces.ref(
                ("figure", f.label, year),
                f"{f.label}（{year}）",
                f"statedata trace {number_} {key} {column} --year {year}",
            )
        return self.t_query(("figure", f.label, year), f"{f.label}（{year}）", f.measure, [year])

    def t_rules(self, owner: str | None) -> str:
        y = self.c.academic_year
        command = f"statedata failures --dept {owner} --year {y}" if owner else f"statedata failures --year {y}"
        what = f"{owner or '全校'}未通过的校验规则（{y}）"
        return self.traces.ref(("rules", owner), what, command)

    def t_benchmark(self, b) -> str:
        what = f"基准：{b.indicator}，{b.scope}，{b.year}（{b.source}{'；' + SAMPLE_MARK if b.sample else ''}）"
        return self.traces.ref(("benchmark", b.file, b.line), what, f"{b.file} 第 {b.line} 行")

    def t_manifest(self, snapshot: str) -> str:
        return self.traces.ref(
            ("manifest",),
            f"上一稿的数字（仓库快照 {snapshot}）",
            "输出文件夹中上一稿的 report_manifest.json（figures、failing_rules）",
        )

    def t_verdicts(self) -> str:
        y = self.c.academic_year
        return self.traces.ref(
            ("verdicts",),
            f"核心指标合格情况（{y}）",
            "仓库查询（只读）：select pass_result, count(*) from platform.core_indicator "
            f"where academic_year = '{y}' group by pass_result（亦见 核心数据复核清单.xlsx）",
        )

    # -- layout ---------------------------------------------------------------------------------------------
    def h1(self, text: str):
        self.sections += 1
        self.subsections = 0
        self.blocks.append(Heading(f"{chinese(self.sections)}、{text}", 1))

    def h2(self, text: str):
        self.subsections += 1
        self.blocks.append(Heading(f"（{chinese(self.subsections)}）{text}", 2))

    def p(self, *parts, style: str = "Normal"):
        self.blocks.append(Para(tuple(parts), style))

    def bullet(self, *parts):
        self.p(*parts, style="List Bullet")

    def table(self, caption: str, header: list[str], rows: list[list], numeric: list[bool], anchors=()):
        self.blocks.append(Table(caption, tuple(header), tuple(tuple(r) for r in rows), tuple(numeric), tuple(anchors)))

    def figure(self, chart, *caption):
        self.blocks.append(Figure(chart, tuple(caption)))

    def ind(self, i: Indicator, year: str) -> Num:
        return Num(number(i.values.get(year), i.decimals) if i.values.get(year) is not None else "无法计算",
                   self.t_indicator(i, year))  # fmt: skip

    # -- sections shared by both reports ---------------------------------------------------------------------
    def about(self, dept: str | None):
        c = self.c
        self.h1("报告说明")
        who = (
            f"本报告为{dept}的部门报告（含自我诊改），覆盖本部门负责的国家数据表、校验规则及其支撑的核心指标。"
            if dept
            else ""
        )
        self.p(
            f"{who}本报告由 statedata 依据学校人才培养工作状态数据仓库自动起草，数据与上报的国家数据表同源："
            f"仓库快照 {c.snapshot}，数据截至 {c.as_of:%Y年%m月%d日 %H:%M}（最近一次抽取的开始时间），"
            f"模板 {c.pack}，核心指标依据{c.document}，学校类型“{c.school_type}”。"
            "文中每个数字后的 [T-nn] 指向附录“数据溯源”中重现该数字的命令、查询或文件。报告只含汇总数字，不含个人信息。"
        )
        st = c.status
        self.p("报告状态：" + ("草稿。" if st.draft else "定稿。"))
        if st.unchecked:
            self.bullet("本学年尚未运行校验规则：请先运行 statedata run。")
        if st.blocking:
            failing = sum(1 for _, _, why in st.blocking if why.endswith("行不符"))
            self.bullet(
                Num(str(len(st.blocking)), self.t_rules(None)),
                " 条错误级校验规则未通过或需重新检查（其中 ",
                Num(str(failing), self.t_rules(None)),
                " 条有不符的数据行），在其全部通过之前，本学年数据不能正式上报。",
            )
        if not st.signed:
            self.bullet("尚无签核记录：数据平台（门户）的签核功能尚未提供，本报告未经任何签核，仅供审阅。")
        if not c.year_closed:
            self.bullet(
                f"{c.academic_year} 学年尚未结束（数据截至 {c.as_of:%Y-%m-%d}）：“当年新增”类数据（新增图书、新增设备、"
                "当年经费、应届毕业生等）只含学年开始以来的部分，与上一学年的全年数据不可直接比较。"
            )

    def changes(self, changes: dict, keep=None):
        """What changed since the last draft; ``keep(kind, name, owner)`` filters it for a department."""
        self.h1("与上一稿相比的变化")
        if changes.get("first"):
            self.p("这是本学年的第一稿：输出文件夹中没有上一稿的 report_manifest.json，无可比较。")
            return
        keep = keep or (lambda kind, name, owner: True)
        figures = [f for f in changes["figures"] if keep(f["kind"], f["name"], None)]
        failing = [r for r in changes["newly_failing"] if keep("rule", r["id"], r["owner"])]
        passing = [r for r in changes["newly_passing"] if keep("rule", r["id"], r["owner"])]
        counts = [r for r in changes["count_changed"] if keep("rule", r["id"], r["owner"])]
        self.p(f"与上一稿（仓库快照 {changes['since']}，数据截至 {changes.get('since_as_of') or '—'}）相比：")
        if not (figures or failing or passing or counts):
            self.p("本报告涉及的数字和校验规则均无变化。")
            return
        old = self.t_manifest(changes["since"])
        if figures:
            rows = []
            for f in figures:
                decimals, now = self._changed(f)
                rows.append([f["name"], Num(number(f["old"], decimals), old), Num(number(f["new"], decimals), now)])
            self.table("与上一稿相比变化的数字", ["项目", "上一稿", "本稿"], rows, [False, True, True])
        for title, items, ref in (
            ("新出现未通过的规则", failing, lambda r: self.t_rules(r["owner"])),
            ("已转为通过的规则（上一稿时的不合格行数）", passing, lambda r: old),
        ):
            if items:
                self.p(f"{title}：")
                for r in items:
                    self.bullet(f"{r['id']}（{r['owner']}），不合格行数 ", Num(number(r["failing"]), ref(r)), "。")
        if counts:
            self.p("仍未通过、不合格行数有变化的规则：")
            for r in counts:
                self.bullet(
                    f"{r['id']}（{r['owner']}）：",
                    Num(number(r["old"]), old),
                    " → ",
                    Num(number(r["new"]), self.t_rules(r["owner"])),
                    " 行。",
                )

    def _changed(self, f: dict) -> tuple[int, str | None]:
        """(decimals, trace id of the new value) of a changed figure."""
        y = self.c.academic_year
        if f["kind"] == "indicator":
            i = next((i for i in self.c.indicators if i.name == f["name"]), None)
            return (i.decimals, self.t_indicator(i, y)) if i else (2, None)
        fig = next((g for a in self.c.areas for g in a.figures if g.label == f["name"]), None)
        return (fig.decimals, self.t_figure(fig, y)) if fig else (2, None)

    def indicator_table(self, indicators: list[Indicator], caption: str):
        c, y = self.c, self.c.academic_year
        rows = []
        for i in indicators:
            limit = NO_LIMIT if i.limit_threshold is None else standard(i.compare, i.limit_threshold)
            verdict = i.pass_result.get(y, "—")
            if i.limit_threshold is not None:
                verdict += f"；{i.limit_result.get(y, '—')}"
            value = self.ind(i, y)  # its trace first: ids follow the reading order
            marks = c.benchmarks.get(i.id) or []
            place = (
                (f"{marks[0].place(i.values.get(y))}（{marks[0].scope}）", Num("", self.t_benchmark(marks[0])))
                if marks
                else "—"
            )
            rows.append([label(i.name, i.unit), value, standard(i.compare, i.pass_threshold), limit, verdict, place])
        self.table(
            caption,
            ["指标（单位）", f"本校值（{y}）", "合格标准", "限制招生线", "结论", "同类院校中的位置"],
            rows,
            [False, True, True, True, False, False],
        )

    def trend(self, indicators: list[Indicator], caption: str):
        c = self.c
        years = c.years
        if len(years) == 1:
            self.p(f"仓库中只有 {years[0]} 一个学年的核心指标，尚无趋势可比；以后每运行一个学年，趋势即增加一年。")
        rows = []
        for i in indicators:
            row = [label(i.name, i.unit)] + [self.ind(i, y) for y in years]
            rows.append(row + [standard(i.compare, i.pass_threshold)])
        self.table(caption, ["指标（单位）", *[f"{y} 学年" for y in years], "合格标准"], rows,
                   [False, *[True] * len(years), True])  # fmt: skip
        chart = TrendChart(
            "核心指标趋势",
            tuple(years),
            tuple(
                (i.name, i.unit, tuple(i.values.get(y) for y in years), i.pass_threshold, i.limit_threshold)
                for i in indicators
            ),
        )
        ref = self.traces.ref(
            ("trend",),
            f"核心指标（{years[0]} 至 {years[-1]} 学年）",
            "仓库查询（只读）：select academic_year, name, value, pass_threshold, limit_threshold "
            "from platform.core_indicator order by seq, academic_year",
        )
        self.figure(chart, f"核心指标趋势（{years[0]} 至 {years[-1]} 学年）", Num("", ref))

    def moves(self, moves: list[Move], none_text: str):
        c = self.c
        if c.previous is None:
            self.p(f"仓库中没有 {c.academic_year} 之前学年的核心指标，无法比较年度变化。")
            return
        if not moves:
            self.p(none_text)
            return
        self.p(
            f"以下为 {c.previous} 至 {c.academic_year} 学年相对变化最大的核心指标，以及推动变化的输入项；"
            "输入项按其来源国家表的分组（专业、院系等，见 analysis/breakdowns.yaml）列出变化最大的几组。"
        )
        for m in moves:
            i = c.indicator(m.indicator)
            self.p(
                f"{i.name}由 ",
                Num(number(m.old, i.decimals), self.t_indicator(i, c.previous)),
                " 变为 ",
                Num(number(m.new, i.decimals), self.t_indicator(i, c.academic_year)),
                f"{i.unit}（{signed(m.new - m.old, i.decimals)}，{percent(m.old, m.new)}）。"
                + ("主要原因：" if m.drivers else "其输入项没有变化（口径或常数变化）。"),
            )
            for d in m.drivers:
                v = c.inputs[d.input]
                parts = [
                    f"{v.label}：",
                    Num(number(d.old, _dec(d.old)), self.t_input(d.input, c.previous)),
                    " → ",
                    Num(number(d.new, _dec(d.new)), self.t_input(d.input, c.academic_year)),
                    f"（{signed(None if d.old is None or d.new is None else d.new - d.old, _dec(d.new))}）",
                ]
                if not d.groups:
                    parts.append(f"；来源 {v.source} 为全校汇总数，无可分解的分组" if v.source else "")
                for g in d.groups:
                    ref = self.t_query(
                        ("breakdown", d.input, g.label),
                        f"{v.label}按{g.label}（{c.previous}、{c.academic_year}）",
                        g.measure,
                        [c.previous, c.academic_year],
                    )
                    moved = "、".join(f"{name} {signed(b - a, _dec(b))}" for name, a, b in g.moves) or "各组均无变化"
                    moved += f"（另有 {g.more} 组变化较小）" if g.more else ""
                    parts += [f"；按{g.label}：{moved}", Num("", ref)]
                    if g.left_over:
                        rest = signed(g.left_over[1] - g.left_over[0], _dec(g.left_over[1]))
                        parts.append(f"（另有 {rest} 不在任何{g.label}分组中）")
                parts.append("。")
                self.bullet(*parts)

    def rules_table(self, rules, caption: str, owner_column: bool = True):
        rows = []
        for r in rules:
            row = [r.id, SEVERITY.get(r.severity, r.severity)]
            row += [r.owner] if owner_column else []
            row += [r.message, Num(number(r.failing), self.t_rules(r.owner)), r.explanation or NO_EXPLANATION]
            rows.append(row)
        header = ["规则", "级别", *(["责任部门"] if owner_column else []), "问题", "不合格行数", "情况说明"]
        self.table(caption, header, rows, [False, False, *([False] if owner_column else []), False, True, False])

    def failing_chart(self, highlight: str | None):
        c = self.c
        if not c.failing_by_owner:
            return
        chart = BarChart(
            f"各部门未通过的校验规则数（{c.academic_year}）",
            "条",
            tuple((k, float(v)) for k, v in c.failing_by_owner.items()),
            highlight=(highlight,) if highlight else (),
        )
        self.figure(chart, f"各部门未通过的校验规则数（{c.academic_year}）", Num("", self.t_rules(None)))

    def appendix(self):
        self.h1("附录：数据溯源")
        self.p(
            "报告中每个数字后的编号对应下表一行：statedata 命令在学校的工作文件夹中运行（--home 指定其他文件夹），"
            "把数字追溯到国家表的单元格、计算它的 SQL 和源系统中的数据行；“仓库查询”可在仓库的只读副本上运行；"
            "基准数字注明所在文件和行。"
        )
        traces = self.traces.all()
        self.table("数据溯源", ["编号", "数字", "重现方法"], [[t.id, t.what, t.command] for t in traces],
                   [False, False, False], anchors=[t.id for t in traces])  # fmt: skip


def _dec(value: float | None) -> int:
    """The decimals a threshold or a count needs (at most 2): 18 -> 0, 6.5 -> 1."""
    if value is None:
        return 0
    for d in (0, 1):
        if abs(round(value, d) - value) < 1e-9:
            return d
    return 2


def _draft_banner(c: College) -> str:
    if not c.status.draft:
        return ""
    why = []
    if c.status.blocking:
        why.append(f"{len(c.status.blocking)} 条错误级规则未通过或需重新检查")
    if c.status.unchecked:
        why.append("规则尚未检查")
    if not c.status.signed:
        why.append("尚无签核")
    return "草稿（" + "，".join(why) + "）"


def college_document(c: College, changes: dict) -> Document:
    w = Writer(c)
    y = c.academic_year
    w.about(None)
    w.changes(changes)

    w.h1("核心指标与合格标准")
    counted = {}
    for i in c.indicators:
        verdict = i.pass_result.get(y, "—")
        counted[verdict] = counted.get(verdict, 0) + 1
    ref = w.t_verdicts()
    w.p(
        Num(str(len(c.indicators)), ref),
        " 项核心指标中，",
        Num(str(counted.get("合格", 0)), ref),
        " 项达到合格标准，",
        Num(str(counted.get("不合格", 0)), ref),
        " 项未达到，",
        Num(str(counted.get("—", 0)), ref),
        " 项无全国合格标准",
        *(
            (("，", Num(str(counted["无法计算"]), ref), " 项无法计算（输入缺失或分母为零）"))
            if counted.get("无法计算")
            else ()
        ),
        "。",
    )
    limits = [i for i in c.indicators if i.limit_threshold is not None]
    if limits:
        hit = [i.name for i in limits if i.limit_result.get(y) == "限制招生"]
        w.p(
            f"已配置限制招生线的指标 {len(limits)} 项，"
            + (f"触及限制招生线：{'、'.join(hit)}。" if hit else "均未触及。")
        )
    else:
        w.p(
            "限制招生线尚未配置（reporting/indicators/jiaofa-2004-2.yaml 中各指标的 limit，须依文件表二填写，"
            "见 docs/templates.md），本报告不判断是否触及限制招生线。"
        )
    w.indicator_table(c.indicators, f"核心指标（{y} 学年）")
    below = [i for i in c.indicators if i.pass_result.get(y) == "不合格"]
    for i in below:
        gap = None if i.values.get(y) is None else abs(i.values[y] - i.pass_threshold)
        w.bullet(
            f"{i.name}为 ",
            w.ind(i, y),
            f"{i.unit}，未达到合格标准 {standard(i.compare, i.pass_threshold)}{i.unit}"
            f"（差 {number(gap, i.decimals)}{i.unit}）。",
        )

    for a in c.areas:
        w.h1(a.name)
        mine = [c.indicator(i) for i in a.indicators if any(x.id == i for x in c.indicators)]
        if mine:
            parts = [f"本领域的核心指标（{y} 学年）："]
            for n, i in enumerate(mine):
                line = "" if i.pass_threshold is None else f"，标准 {standard(i.compare, i.pass_threshold)}"
                parts += [
                    "；" if n else "",
                    f"{i.name} ",
                    w.ind(i, y),
                    f"{i.unit}（{i.pass_result.get(y, '—')}{line}）",
                ]
            w.p(*parts, "。")
        if a.figures:
            rows = []
            for f in a.figures:
                row = [label(f.label, f.unit)] + [
                    Num(number(f.values.get(yy), f.decimals), w.t_figure(f, yy)) for yy in c.years
                ]
                old = f.values.get(c.previous) if c.previous else None
                row.append(signed(None if old is None or f.values.get(y) is None else f.values[y] - old, f.decimals))
                rows.append(row)
            w.table(f"{a.name}主要数据", ["项目（单位）", *[f"{yy} 学年" for yy in c.years], "比上年增减"], rows,
                    [False, *[True] * len(c.years), True])  # fmt: skip
        for g in a.charts:
            now = g.values[y]
            before = g.values.get(c.previous, {}) if c.previous else {}
            chart = BarChart(
                f"{g.title}（{y}）",
                g.unit,
                tuple(sorted(now.items())),
                previous=tuple(sorted(before.items())),
                legend=(y, c.previous or ""),
            )
            ref = w.t_query(("chart", g.id), f"{g.title}（{'、'.join(c.years)}）", g.measure, c.years)
            w.figure(
                chart, f"{g.title}（{y} 学年" + (f"，浅色为 {c.previous} 学年）" if before else "）"), Num("", ref)
            )
            top = sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))
            total = sum(now.values())
            w.p(
                f"{g.title}：共 ",
                Num(str(len(now)), ref),
                " 组，合计 ",
                Num(number(total), ref),
                f"{g.unit}；最多的是{top[0][0]}（",
                Num(number(top[0][1]), ref),
                f"{g.unit}），最少的是{top[-1][0]}（",
                Num(number(top[-1][1]), ref),
                f"{g.unit}）。",
            )

    w.h1("核心指标趋势")
    w.trend(c.indicators, f"核心指标趋势（{c.years[0]} 至 {c.years[-1]} 学年）")

    w.h1("主要变化及其原因")
    w.moves(c.moves, "与上一学年相比，核心指标均无变化。")

    benchmark_section(w, c.indicators)

    w.h1("校验规则未通过情况")
    errors = sum(r.severity == "error" for r in c.rules)
    ref = w.t_rules(None)
    w.p(
        f"{y} 学年最近一次检查中，",
        Num(str(len(c.rules)), ref),
        " 条校验规则未通过（错误 ",
        Num(str(errors), ref),
        " 条，警告 ",
        Num(str(len(c.rules) - errors), ref),
        " 条）。错误级规则阻止正式上报；警告级规则需要说明情况。各部门在数据平台填写的情况说明列在表中"
        f"（该功能尚未提供，目前均为“{NO_EXPLANATION}”）。",
    )
    if c.rules:
        w.rules_table(c.rules, f"未通过的校验规则（{y}）")
        w.failing_chart(None)
    w.appendix()
    return Document(
        "college",
        None,
        f"{c.school_name}{y}学年人才培养工作状态数据分析报告",
        c.status.draft,
        _draft_banner(c),
        "人才培养工作状态数据分析报告",
        w.blocks,
        w.traces.all(),
    )


def benchmark_section(w: Writer, indicators: list[Indicator]):
    c, y = w.c, w.c.academic_year
    w.h1("与同类院校比较")
    marked = [i for i in indicators if c.benchmarks.get(i.id)]
    if not marked:
        w.p(f"基准文件 {c.benchmark_file} 中没有学校类型“{c.school_type}”的这些指标，无法比较。")
        return
    sample = any(b.sample for i in marked for b in c.benchmarks[i.id])
    w.p(
        f"基准取自 {c.benchmark_file}（各指标按学校类型“{c.school_type}”的省级或全国四分位数）。"
        + (
            f"注意：其中标注的数字为{SAMPLE_MARK}，仅用于演示本节的写法，不能作为判断依据；请以本省或全国的真实统计"
            "替换（学校文件夹中的 benchmarks.csv，见 docs/report.md）。"
            if sample
            else ""
        )
        + "位置分四档：低于P25、P25–中位数、中位数–P75、高于P75；生师比等越低越好的指标，位置靠前并非优势。"
    )
    rows = []
    for i in marked:
        for b in c.benchmarks[i.id]:
            ref = w.t_benchmark(b)
            rows.append(
                [
                    label(i.name, i.unit),
                    w.ind(i, y),
                    b.scope,
                    b.year,
                    Num(number(b.p25, i.decimals), ref),
                    Num(number(b.median, i.decimals), ref),
                    Num(number(b.p75, i.decimals), ref),
                    b.place(i.values.get(y)) + ("（越低越好）" if i.compare == "<=" else ""),
                    b.source + (f"（{SAMPLE_MARK}）" if b.sample else ""),
                ]
            )
    w.table(
        f"与同类院校比较（{y}）" + (f"——{SAMPLE_MARK}" if sample else ""),
        ["指标（单位）", "本校值", "范围", "基准年份", "P25", "中位数", "P75", "本校位置", "来源"],
        rows,
        [False, True, False, False, True, True, True, False, False],
    )


def department_document(d: Department, changes: dict) -> Document:
    c = d.college
    w = Writer(c)
    y = c.academic_year
    w.about(d.name)
    indicator_names = {c.indicator(i).name for i in d.indicators}
    own_tables = {t.table for t in d.tables}
    figure_labels = {f.label for a in c.areas for f in a.figures if f.table in own_tables}

    def keep(kind, name, owner):
        if kind == "indicator":
            return name in indicator_names
        if kind == "figure":
            return name in figure_labels
        return owner == d.name

    w.changes(changes, keep)

    w.h1("本部门负责的国家数据表")
    if not d.tables:
        w.p(f"模板 {c.pack} 中没有由{d.name}负责的国家数据表；本部门负责下列校验规则。")
    else:
        measures = [(t, Measure(t.table, where=tuple((k, (v,)) for k, v in t.where))) for t in d.tables]
        total = sum(t.rows.get(y, 0) for t in d.tables)
        empty = [t.number for t in d.tables if not t.rows.get(y)]
        pack = w.traces.ref(
            ("pack",), f"{d.name}负责的国家数据表", f"模板 {c.pack}（reporting/templates）中 owner 为{d.name}的表"
        )
        every = w.traces.ref(
            ("rows", y),
            f"{d.name}负责的国家数据表的行数合计（{y}）",
            "仓库查询（只读）：" + "；".join(display_sql(m, [y]) for _, m in measures),
        )
        w.p(
            f"{d.name}负责 ",
            Num(str(len(d.tables)), pack),
            f" 张国家数据表，{y} 学年共 ",
            Num(number(total), every),
            " 行" + (f"；其中 {'、'.join(empty)} 本学年没有数据行，请核实是否确无数据。" if empty else "。"),
        )
        rows = []
        for t, m in measures:
            row = [t.number, t.name]
            for yy in c.years:
                ref = w.t_query(("rows", t.number, yy), f"{t.number} {t.name}的行数（{yy}）", m, [yy])
                row.append(Num(number(t.rows.get(yy)), ref))
            old = t.rows.get(c.previous) if c.previous else None
            row.append(signed(None if old is None else t.rows.get(y, 0) - old))
            rows.append(row)
        w.table(f"{d.name}负责的国家数据表（行数）", ["表号", "表名", *[f"{yy} 学年" for yy in c.years], "比上年增减"],
                rows, [False, False, *[True] * len(c.years), True])  # fmt: skip

    w.h1("本部门数据支撑的核心指标")
    if not d.indicators:
        w.p(f"{d.name}负责的数据表不直接进入核心指标的计算。")
    else:
        rows = []
        for name in d.inputs:
            v = c.inputs[name]
            rows.append(
                [v.label]
                + [Num(number(v.values.get(yy), _dec(v.values.get(yy))), w.t_input(name, yy)) for yy in c.years]
                + [v.source]
            )
        w.table(f"{d.name}的数据进入核心指标的输入项", ["输入项", *[f"{yy} 学年" for yy in c.years], "来源"], rows,
                [False, *[True] * len(c.years), False])  # fmt: skip
        mine = [c.indicator(i) for i in d.indicators]
        w.indicator_table(mine, f"{d.name}的数据支撑的核心指标（{y} 学年）")
        w.trend(mine, f"{d.name}的数据支撑的核心指标趋势")

    w.h1("主要变化及其原因")
    if d.indicators:
        w.moves(d.moves, f"与上一学年相比，{d.name}的数据支撑的核心指标均无变化。")
    else:
        w.p("本部门的数据不进入核心指标，本节从略。")

    w.h1("校验规则未通过情况")
    ref = w.t_rules(d.name)
    w.p(
        f"{y} 学年最近一次检查中，{d.name}负责的校验规则有 ",
        Num(str(len(d.rules)), ref),
        " 条未通过"
        + (
            "。请按 statedata failures 列出的源数据行在源系统中修正，次日运行后自动复查；"
            f"确属情况特殊的，在数据平台填写情况说明（该功能尚未提供，目前均为“{NO_EXPLANATION}”）。"
            if d.rules
            else "。"
        ),
    )
    if d.rules:
        w.rules_table(d.rules, f"{d.name}未通过的校验规则（{y}）", owner_column=False)
    w.failing_chart(d.name)

    w.h1("自我诊改")
    w.h2("存在的问题")
    problems = 0
    for r in d.rules:
        problems += 1
        w.bullet(f"{r.id} {r.message}：", Num(number(r.failing), ref), " 行不符。")
    for i in (c.indicator(x) for x in d.indicators):
        if i.pass_result.get(y) == "不合格":
            problems += 1
            w.bullet(
                f"{i.name}为 ",
                w.ind(i, y),
                f"{i.unit}，未达到合格标准 {standard(i.compare, i.pass_threshold)}{i.unit}。",
            )
    if not problems:
        w.p("数据中未发现本部门的问题（校验规则均通过，所支撑的核心指标均合格或无合格标准）。")
    w.h2("原因分析")
    w.p("（待本部门填写）")
    w.h2("改进措施与完成时限")
    w.p("（待本部门填写）")
    w.appendix()
    return Document(
        "department",
        d.name,
        f"{d.name}{y}学年人才培养工作状态数据分析报告（自我诊改）",
        c.status.draft,
        _draft_banner(c),
        f"{c.school_name} 人才培养工作状态数据分析报告（部门）",
        w.blocks,
        w.traces.all(),
    )
