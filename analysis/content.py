"""What the analysis report says, as plain data read from the warehouse: the core indicators of every year held
(platform.core_indicator) with their thresholds, their inputs (platform.indicator_input), the areas' figures and
charts (areas.yaml), the largest year-over-year moves with the inputs and groups that drove them
(breakdowns.yaml), the failing rules (audit.rule_result), the national tables and who owns them (the template
pack), the peer benchmarks, and whether the year may be called final (it may not while an error rule fails or no
sign-off exists). ``college`` builds the college report's content, ``department`` one department's.

Aggregates only: no value of a person (name, ID number, phone) is read.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

import duckdb

from analysis import benchmarks as bm
from analysis.config import (
    AreaSpec,
    BreakdownSpec,
    Measure,
    check_indicators,
    load_areas,
    load_breakdowns,
)
from expectations.rules import Rule, blocking_rules, latest_results
from model.canonical import load_model
from model.years import TZ, parse_year
from reporting.indicators import load_definitions
from reporting.package import snapshot_id
from reporting.templates import TableTemplate, pack_for_year
from reporting.workbook import school_of
from warehouse.db import qualified, quote, table_names

MOVES = 5  # the largest year-over-year moves the report explains
GROUPS = 5  # the groups named per breakdown of a moved input


class ContentError(ValueError):
    """The warehouse cannot give a report for the year asked; the message says what to run."""


@dataclass(frozen=True)
class Setup:
    """What the report needs besides the warehouse: the college's rules (their owners as the college names its
    departments), how the college names a department the templates call by its usual name, its school type
    (indicator thresholds and benchmarks) and its folder (where its own benchmark file may be)."""

    rules: list[Rule]
    department: Callable[[str], str] = lambda usual: usual
    school_type: str | None = None
    college_dir: Path | None = None


@dataclass
class Indicator:
    id: str
    name: str
    group: str
    unit: str
    decimals: int
    compare: str
    pass_threshold: float | None
    limit_threshold: float | None
    threshold_source: str
    values: dict[str, float | None]  # academic year -> value
    pass_result: dict[str, str]
    limit_result: dict[str, str]
    inputs: list[str]  # the inputs its formula reads, derived figures expanded (constants left out)


@dataclass
class Input:
    id: str
    label: str
    source: str  # platform.<table>[.<column>], as platform.indicator_input records it
    table: str
    values: dict[str, float | None]
    cell: tuple[str, str, str] | None  # (national table number, row key, column) when read from one published cell


@dataclass
class Figure:
    label: str
    unit: str
    decimals: int
    table: str
    measure: Measure
    values: dict[str, float | None]
    cell: tuple[str, str, str] | None = None


@dataclass
class Groups:
    """A grouped measure over the years: a chart's data, or a breakdown of an input."""

    id: str
    title: str
    unit: str
    measure: Measure
    values: dict[str, dict[str, float]]  # academic year -> group -> value


@dataclass
class Area:
    name: str
    indicators: list[str]
    figures: list[Figure]
    charts: list[Groups]


@dataclass
class GroupMove:
    label: str  # how the report names the grouping (专业, 院系)
    measure: Measure
    moves: list[tuple[str, float, float]]  # (group, old, new), the largest first
    left_over: tuple[float, float] | None  # (old, new) of the input the groups do not account for
    more: int = 0  # groups that moved too but are not listed


@dataclass
class Driver:
    input: str
    old: float | None
    new: float | None
    groups: list[GroupMove]


@dataclass
class Move:
    indicator: str
    old: float
    new: float
    drivers: list[Driver]


@dataclass
class FailingRule:
    id: str
    severity: str
    owner: str
    dimension: str
    message: str
    failing: int
    checked: int
    explanation: str | None = None  # none exist yet: the portal will add them


@dataclass
class NationalTable:
    number: str
    name: str
    owner: str
    table: str
    where: tuple[tuple[str, str], ...]
    rows: dict[str, int]


@dataclass
class Status:
    blocking: list[tuple[str, str, str]]  # (rule id, owner, why) of the error rules that stop the submission
    unchecked: bool  # no rule has been evaluated for the year
    signed: bool = False  # no sign-off exists yet (the portal will record it)

    @property
    def draft(self) -> bool:
        return bool(self.blocking) or self.unchecked or not self.signed


@dataclass
class College:
    school_code: str
    school_name: str
    academic_year: str
    years: list[str]  # every year platform.core_indicator holds, oldest first
    previous: str | None  # the year before academic_year among them
    snapshot: str
    as_of: datetime  # when the newest committed extraction of the snapshot started (Asia/Shanghai)
    year_closed: bool  # the academic year ended before the data were extracted
    pack: str
    document: str
    school_type: str
    status: Status
    indicators: list[Indicator]
    inputs: dict[str, Input]
    areas: list[Area]
    all_moves: list[Move]  # every indicator that moved since the previous year, the largest relative change first
    rules: list[FailingRule]
    failing_by_owner: dict[str, int]
    tables: list[NationalTable]
    departments: list[str]
    benchmarks: dict[str, list[bm.Benchmark]]
    benchmark_file: str
    benchmark_sample: bool
    breakdown_specs: dict[str, list[BreakdownSpec]] = field(default_factory=dict)

    @property
    def moves(self) -> list[Move]:
        """The largest moves, which the college report explains."""
        return self.all_moves[:MOVES]

    def indicator(self, indicator_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator_id)

    def figures(self) -> dict[str, dict[str, float | None]]:
        """What the manifest records and the next draft compares: the year's indicator values and area figures."""
        y = self.academic_year
        return {
            "indicators": {i.name: i.values.get(y) for i in self.indicators},
            "figures": {f.label: f.values.get(y) for a in self.areas for f in a.figures},
        }

    def failing(self) -> dict[str, int]:
        return {r.id: r.failing for r in self.rules}


@dataclass
class Department:
    college: College
    name: str
    tables: list[NationalTable]
    rules: list[FailingRule]
    inputs: list[str]  # the indicator inputs read from its tables
    indicators: list[str]  # the indicators those inputs feed

    @property
    def moves(self) -> list[Move]:
        """The largest moves of the indicators its tables feed."""
        return [m for m in self.college.all_moves if m.indicator in self.indicators][:MOVES]


def indicator_years(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The academic years platform.core_indicator holds, oldest first (none before the first run)."""
    if "core_indicator" not in table_names(con, "platform"):
        return []
    return [
        r[0] for r in con.execute("select distinct academic_year from platform.core_indicator order by 1").fetchall()
    ]


def measure(con: duckdb.DuckDBPyConnection, m: Measure, years: list[str]) -> dict[str, dict[object, float]] | None:
    """academic year -> group (None without ``by``) -> value, for the years asked; None when the warehouse holds
    no such table. Identifiers are checked against the table's columns; values are bound."""
    if m.table not in table_names(con, "platform"):
        return None
    have = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_catalog = current_database() "
            "and table_schema = 'platform' and table_name = ?",
            [m.table],
        ).fetchall()
    }
    personal = {m.by, *(c for c, _ in m.where)} & _personal()
    if personal:
        raise ContentError(
            f"platform.{m.table}: {sorted(personal)} hold personal values: the report shows aggregates only"
        )
    unknown = m.columns() - have
    if unknown:
        raise ContentError(
            f"platform.{m.table} has no column(s) {sorted(unknown)} (analysis/areas.yaml, breakdowns.yaml)"
        )
    value = f"sum({quote(m.sum)})" if m.sum else "count(*)"
    group = quote(m.by) if m.by else "null"
    filters = "".join(f" and list_contains(?, {quote(c)})" for c, _ in m.where)
    rows = con.execute(
        f"select academic_year, {group}, {value} from {qualified('platform', m.table)} "
        f"where list_contains(?, academic_year){filters} group by all",
        [years, *[list(v) for _, v in m.where]],
    ).fetchall()
    out: dict[str, dict[object, float]] = {y: {} for y in years}
    for y, g, v in rows:
        out[y][g] = None if v is None else float(v)
    return out


@cache
def _personal() -> frozenset[str]:
    """The fields the canonical model marks as personal (names, ID numbers, phones): never a group or a filter."""
    return frozenset(f.name for e in load_model().entities.values() for f in e.fields.values() if f.pii)


def display_sql(m: Measure, years: list[str]) -> str:
    """The query a reader can run on the warehouse (read-only) to see the figure: values written as literals."""

    def lit(v):
        if isinstance(v, bool):
            return str(v).lower()
        return str(v) if isinstance(v, (int, float)) else "'" + str(v).replace("'", "''") + "'"

    value = f"sum({m.sum})" if m.sum else "count(*)"
    cond = [
        f"academic_year = {lit(years[0])}" if len(years) == 1 else f"academic_year in ({', '.join(map(lit, years))})"
    ]
    cond += [f"{c} = {lit(v[0])}" if len(v) == 1 else f"{c} in ({', '.join(map(lit, v))})" for c, v in m.where]
    keys = ([] if len(years) == 1 else ["academic_year"]) + ([m.by] if m.by else [])
    select = ", ".join([*keys, value])
    group = f" group by {', '.join(keys)} order by {', '.join(keys)}" if keys else ""
    return f"select {select} from platform.{m.table} where {' and '.join(cond)}{group}"


def _school_cells(con, pack) -> dict[str, tuple[TableTemplate, str]]:
    """platform table -> (its template, the school's row key) for the one-row-per-school national tables."""
    code = con.execute("select school_code from core.school limit 1").fetchall()
    out = {}
    for t in pack.tables:
        if t.key == ("school_code",) and not t.where and code:
            out[t.source_table] = (t, str(code[0][0]))
    return out


def _expand(formula, derived: dict) -> list[str]:
    names, seen, todo = [], set(), sorted(formula.names())
    while todo:
        n = todo.pop(0)
        if n in seen:
            continue
        seen.add(n)
        if n in derived:
            todo += sorted(derived[n]["formula"].names())
        else:
            names.append(n)
    return names


def _status(con, rules: list[Rule], academic_year: str) -> Status:
    owners = {r.id: r.owner for r in rules}
    try:
        blocking = blocking_rules(con, rules, academic_year)
    except ValueError:  # no rule evaluated for the year
        return Status(blocking=[], unchecked=True)
    return Status(blocking=[(r.id, owners.get(r.id, r.owner), why) for r, why in blocking], unchecked=False)


def _as_of(con) -> datetime:
    """When the newest committed extraction started: the time the data are as of."""
    row = con.execute("select max(started_at) from audit.batch where status = 'committed'").fetchall()[0][0]
    if row is None:
        raise ContentError("the warehouse has no committed extraction batch: run `statedata run` first")
    return row.astimezone(TZ)


def college(con: duckdb.DuckDBPyConnection, academic_year: str, setup: Setup) -> College:
    """The college report's content for one academic year (it must have core indicators: a run of the year)."""
    years = indicator_years(con)
    if academic_year not in years:
        held = ", ".join(years) or "none"
        raise ContentError(
            f"no core indicators for {academic_year} (years held: {held}): run `statedata run --year {academic_year}`"
        )
    school = school_of(con, academic_year)
    if school is None:
        raise ContentError(f"no national tables for {academic_year}: run `statedata run --year {academic_year}`")
    defs = load_definitions()
    areas_spec, breakdowns = load_areas(), load_breakdowns()
    check_indicators(areas_spec, breakdowns, defs)
    pack = pack_for_year(academic_year)
    previous = years[years.index(academic_year) - 1] if years.index(academic_year) > 0 else None
    shown = [y for y in years if parse_year(y) <= parse_year(academic_year)]  # trends end at the report's year
    as_of = _as_of(con)

    indicators = _indicators(con, defs, shown)
    school_type = con.execute(
        "select any_value(school_type) from platform.core_indicator where academic_year = ?", [academic_year]
    ).fetchall()[0][0] or (setup.school_type or defs["default_school_type"])
    inputs = _inputs(con, defs, shown, _school_cells(con, pack))
    areas = _areas(con, areas_spec, shown, _school_cells(con, pack))
    moves = _moves(con, indicators, inputs, breakdowns, previous, academic_year) if previous else []
    rules = _failing_rules(con, setup.rules, academic_year)
    tables = _tables(con, pack, shown, setup.department)
    departments = sorted({t.owner for t in tables} | {r.owner for r in setup.rules})
    file = bm.location(setup.college_dir)
    shown_file = "analysis/benchmarks_sample.csv" if file == bm.SAMPLE else str(file)
    rows = bm.load(file, shown_file)
    marks = {i.id: bm.for_indicator(rows, i.id, i.name, school_type) for i in indicators}
    by_owner: dict[str, int] = {}
    for r in rules:
        by_owner[r.owner] = by_owner.get(r.owner, 0) + 1
    return College(
        school_code=str(school[0]),
        school_name=str(school[1]),
        academic_year=academic_year,
        years=shown,
        previous=previous,
        snapshot=snapshot_id(con),
        as_of=as_of,
        year_closed=as_of.date() > date(parse_year(academic_year) + 1, 8, 31),
        pack=f"{pack.pack} {pack.version}",
        document=defs["document"],
        school_type=school_type,
        status=_status(con, setup.rules, academic_year),
        indicators=indicators,
        inputs=inputs,
        areas=areas,
        all_moves=moves,
        rules=rules,
        failing_by_owner=dict(sorted(by_owner.items(), key=lambda kv: (-kv[1], kv[0]))),
        tables=tables,
        departments=departments,
        benchmarks={k: v for k, v in marks.items() if v},
        benchmark_file=shown_file,
        benchmark_sample=any(b.sample for v in marks.values() for b in v),
        breakdown_specs=breakdowns,
    )


def department(
    con: duckdb.DuckDBPyConnection, academic_year: str, name: str, setup: Setup, base: College | None = None
):
    """One department's report content: the national tables it owns, its failing rules, the indicator inputs its
    tables give and the indicators they feed. ``base``: the college content already read for the year."""
    base = base or college(con, academic_year, setup)
    if name not in base.departments:
        raise ContentError(
            f"no national table or rule is owned by {name!r}; departments: {', '.join(base.departments)}"
        )
    tables = [t for t in base.tables if t.owner == name]
    own = {t.table for t in tables}
    inputs = [i for i, v in base.inputs.items() if v.table in own]
    indicators = [i.id for i in base.indicators if set(i.inputs) & set(inputs)]
    return Department(base, name, tables, [r for r in base.rules if r.owner == name], inputs, indicators)


def _indicators(con, defs: dict, years: list[str]) -> list[Indicator]:
    rows = con.execute(
        "select academic_year, indicator_id, value, pass_result, limit_result, pass_threshold, limit_threshold, "
        "threshold_source from platform.core_indicator where list_contains(?, academic_year) order by seq",
        [years],
    ).fetchall()
    derived = {d["id"]: d for d in defs["derived"]}
    constants = set(defs.get("constants") or {})
    latest = years[-1]
    out = []
    for i in defs["indicators"]:
        mine = [r for r in rows if r[1] == i["id"]]
        now = next((r for r in mine if r[0] == latest), None)
        out.append(
            Indicator(
                id=i["id"],
                name=i["name"],
                group=i["group"],
                unit=i.get("unit", ""),
                decimals=int(i.get("decimals", 2)),
                compare=i["compare"],
                pass_threshold=now[5] if now else None,
                limit_threshold=now[6] if now else None,
                threshold_source=now[7] if now else i.get("source", ""),
                values={r[0]: r[2] for r in mine},
                pass_result={r[0]: r[3] for r in mine},
                limit_result={r[0]: r[4] for r in mine},
                inputs=[n for n in _expand(i["formula"], derived) if n not in constants],
            )
        )
    return out


def _inputs(con, defs: dict, years: list[str], cells: dict) -> dict[str, Input]:
    rows = con.execute(
        "select academic_year, input, value, source from platform.indicator_input "
        "where list_contains(?, academic_year)",
        [years],
    ).fetchall()
    out: dict[str, Input] = {}
    for y, name, value, source in sorted(rows, key=lambda r: (r[1], r[0])):
        if name not in out:
            parts = (source or "").split(".")
            table = parts[1] if len(parts) > 1 else ""
            column = parts[2] if len(parts) == 3 and parts[2].isidentifier() else None
            cell = None
            if table in cells and column:
                t, key = cells[table]
                cell = (t.number, key, column)
            out[name] = Input(name, defs["inputs"].get(name, name), source or "", table, {}, cell)
        out[name].values[y] = value
    return out


def _areas(con, specs: list[AreaSpec], years: list[str], cells: dict) -> list[Area]:
    out = []
    for a in specs:
        figures = []
        for f in a.figures:
            got = measure(con, f.measure, years)
            if got is None or not any(got[y] for y in years):
                continue  # the warehouse holds no such table, or no row of these years
            cell = None
            if f.measure.table in cells and f.measure.sum and not f.measure.where:
                t, key = cells[f.measure.table]
                cell = (t.number, key, f.measure.sum)
            values = {y: got[y].get(None) for y in years}
            figures.append(Figure(f.label, f.unit, f.decimals, f.measure.table, f.measure, values, cell))
        charts = []
        for c in a.charts:
            got = measure(con, c.measure, years)
            if got is None or not got[years[-1]]:
                continue
            values = {y: {("（未填）" if g is None else str(g)): v or 0.0 for g, v in got[y].items()} for y in years}
            charts.append(Groups(c.id, c.title, c.unit, c.measure, values))
        if a.indicators or figures or charts:
            out.append(Area(a.name, list(a.indicators), figures, charts))
    return out


def _moves(con, indicators, inputs, breakdowns, previous: str, academic_year: str) -> list[Move]:
    """The indicators that moved between the two years, largest relative change first, each with the inputs that moved
    (largest relative change first) and, for an input with breakdowns, the groups that moved it most."""
    moved = []
    for i in indicators:
        old, new = i.values.get(previous), i.values.get(academic_year)
        if old is None or new is None or old == new:
            continue
        moved.append((abs(new - old) / abs(old) if old else float("inf"), i, old, new))
    moved.sort(key=lambda m: (-m[0], m[1].id))
    out, explained = [], {}  # input -> its driver (an input feeds several indicators: read once)
    for _, i, old, new in moved:
        drivers = []
        for name in i.inputs:
            v = inputs.get(name)
            a, b = (v.values.get(previous), v.values.get(academic_year)) if v else (None, None)
            if a == b:
                continue
            if name not in explained:
                groups = [_group_move(con, s, previous, academic_year, a, b) for s in breakdowns.get(name, [])]
                explained[name] = Driver(name, a, b, [g for g in groups if g is not None])
            drivers.append(explained[name])
        drivers.sort(key=lambda d: (-_rel(d.old, d.new), d.input))
        out.append(Move(i.id, old, new, drivers))
    return out


def _rel(old, new) -> float:
    if old is None or new is None:
        return 0.0
    return abs(new - old) / abs(old) if old else float("inf")


def _group_move(con, spec: BreakdownSpec, previous: str, academic_year: str, total_old, total_new):
    got = measure(con, spec.measure, [previous, academic_year])
    if got is None:
        return None
    names = {g for y in got for g in got[y]}
    moves = []
    for g in names:
        a, b = got[previous].get(g) or 0.0, got[academic_year].get(g) or 0.0
        if a != b:
            moves.append(("（未填）" if g is None else str(g), a, b))
    moves.sort(key=lambda m: (-abs(m[2] - m[1]), m[0]))
    sums = (sum(v or 0 for v in got[previous].values()), sum(v or 0 for v in got[academic_year].values()))
    left = None
    if (
        total_old is not None
        and total_new is not None
        and (abs(total_old - sums[0]) > 1e-6 or abs(total_new - sums[1]) > 1e-6)
    ):
        left = (total_old - sums[0], total_new - sums[1])
    return GroupMove(spec.label, spec.measure, moves[:GROUPS], left, max(0, len(moves) - GROUPS))


def _failing_rules(con, rules: list[Rule], academic_year: str) -> list[FailingRule]:
    by_id = {r.id: r for r in rules}
    out = []
    for rule_id, (_, result) in latest_results(con, academic_year).items():
        if result["passed"]:
            continue
        r = by_id.get(rule_id)
        out.append(
            FailingRule(
                id=rule_id,
                severity=r.severity if r else "error",
                owner=r.owner if r else "（规则已不在规则集中）",
                dimension=r.dimension if r else "",
                message=r.message if r else "",
                failing=int(result["failing"]),
                checked=int(result["checked"]),
            )
        )
    out.sort(key=lambda f: (f.severity != "error", f.owner, f.id))
    return out


def _tables(con, pack, years: list[str], department: Callable[[str], str]) -> list[NationalTable]:
    held = set(table_names(con, "platform"))
    out = []
    for t in pack.ordered_tables():
        rows = {y: 0 for y in years}
        if t.source_table in held:
            filters = "".join(f" and {quote(k)} = ?" for k, _ in t.where)
            for y, n in con.execute(
                f"select academic_year, count(*) from {qualified('platform', t.source_table)} "
                f"where list_contains(?, academic_year){filters} group by 1",
                [years, *[v for _, v in t.where]],
            ).fetchall():
                rows[y] = int(n)
        out.append(NationalTable(t.number, t.name, department(t.owner), t.source_table, t.where, rows))
    return out
