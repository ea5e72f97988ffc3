"""The rule catalogue (expectations/catalogue.yaml) and its SQL rules: load, evaluate, record.

A rule's SQL (expectations/sql/<name>.sql) returns one row per failure: ``_raw_id`` (the source row
version behind it, or null), ``column_name`` and ``value``. Evaluating a rule counts the failures,
compares them with the tolerance, and traces each failure to its source row (system, table, key)
through the raw tables. Every evaluation and its full list of failures are kept in
``audit.rule_result`` / ``audit.rule_failure``, with the run, the academic year and the time.

Pure Python and SQL: Dagster wraps this in asset checks (assets/checks.py).
Run ``python -m expectations.rules`` to print docs/rules.md.
"""

import math
import re
import sys
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from expectations.suites import SuiteError, forget_ahead, parse, run_suite, started_ahead
from model.canonical import Model
from model.settings import Settings
from model.yamlfile import read_yaml
from model.years import parse_year, previous_year
from reporting.export import table_query
from reporting.templates import TemplatePack, pack_for_year, year_params
from reporting.trace import source_rows
from warehouse import offload
from warehouse.db import ident, insert_rows, params_used, references
from warehouse.fingerprint import Fingerprints

CATALOGUE = Path(__file__).parent / "catalogue.yaml"
SQL_DIR = Path(__file__).parent / "sql"
CLOCK = "checked_at"  # the parameter of the evaluation time
# parameters that do not follow from the academic year and the settings: the clock, and what rule_params reads
# from the data; a rule binding one is evaluated in every run
VOLATILE = (CLOCK, "empty_tables")
DIMENSIONS = ("完整性", "规范性", "唯一性", "一致性", "连续性", "即时性")
SEVERITIES = ("error", "warning")
_ID = re.compile(r"^R-[A-Z]{2}-\d{3}$")
_KEYS = {
    "id", "asset", "dimension", "severity", "tolerance", "owner", "years", "until", "sql", "expect", "message", "hint",
    "covers",
}  # fmt: skip
LAYERS = ("staging", "platform")


class CatalogueError(ValueError):
    """The catalogue is invalid; the message names the rule and the key."""


@dataclass(frozen=True)
class Rule:
    id: str
    asset: str  # platform.<table> (per academic year) or staging.<system>__<entity> (every current row)
    dimension: str
    severity: str
    tolerance: str  # "0" rows, or "1%"
    owner: str
    message: str
    hint: str
    sql: str = ""  # expectations/sql/<sql>.sql, or
    expect: list | None = field(default=None, compare=False, hash=False)  # a GX suite (expectations/suites.py)
    years: str = ""
    until: str = ""
    covers: tuple[str, ...] = ()  # references of the canonical model (<entity>.<field>) the rule checks
    inline_sql: str = field(default="", compare=False)  # a generated rule's SQL (instead of a file)

    @property
    def generated(self) -> bool:
        return bool(self.inline_sql) or self.id.startswith("G-")

    @property
    def check_name(self) -> str:
        """The Dagster check name (letters, digits and _): R-XS-001 -> R_XS_001. The rules generated from the
        canonical model share one check per entity, ``model_rules`` (each is still recorded on its own)."""
        return "model_rules" if self.generated else self.id.replace("-", "_")

    @property
    def layer(self) -> str:
        return self.asset.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.asset.split(".", 1)[1]

    @property
    def kind(self) -> str:
        return "GX" if self.expect else "SQL"

    def tables(self) -> list[tuple[str, str]]:
        """The warehouse tables the rule examines: the one it guards and those its SQL reads."""
        guarded = (self.layer, self.table)
        read = references(self.layer, self.table, self.sql_text()) if not self.expect else []
        return [guarded, *[t for t in read if t != guarded]]

    def sql_text(self) -> str:
        return self.inline_sql or (SQL_DIR / f"{self.sql}.sql").read_text(encoding="utf-8")

    @property
    def reads_clock(self) -> bool:
        """Its result depends on when it is evaluated (its SQL reads ``$checked_at``): a run that finds nothing
        changed re-evaluates it alone."""
        return not self.expect and re.search(rf"\${CLOCK}\b", self.sql_text()) is not None

    @property
    def reusable(self) -> bool:
        """Its result stays true while the tables it examines are as they were: it binds no volatile parameter."""
        return bool(self.expect) or not any(re.search(rf"\${p}\b", self.sql_text()) for p in VOLATILE)

    def applies(self, academic_year: str) -> bool:
        year = parse_year(academic_year)
        return (not self.years or parse_year(self.years) <= year) and (not self.until or year <= parse_year(self.until))

    def allowed(self, checked: int) -> int:
        if self.tolerance.endswith("%"):
            return math.floor(float(self.tolerance[:-1]) / 100 * checked)
        return int(self.tolerance)


@dataclass
class RuleResult:
    rule: Rule
    academic_year: str
    failing: int
    checked: int
    failures: list[dict] = field(default_factory=list)  # source_system, source_table, source_key, column, value
    fingerprint: str = ""  # of the tables examined, when evaluated (warehouse/fingerprint.py)
    reused: bool = False  # an earlier evaluation's result, its tables unchanged since (reused_results)

    @property
    def passed(self) -> bool:
        return self.failing <= self.rule.allowed(self.checked)


def load_catalogue(path: Path = CATALOGUE) -> list[Rule]:
    raw = read_yaml(path)
    rules, seen = [], set()
    for i, r in enumerate(raw.get("rules") or []):
        where = f"{path}: rules[{i}] ({r.get('id', '?')})"
        unknown = set(r) - _KEYS
        missing = {"id", "asset", "dimension", "severity", "tolerance", "owner", "message", "hint"} - set(r)
        if unknown or missing:
            raise CatalogueError(f"{where}: unknown key(s) {sorted(unknown)}, missing key(s) {sorted(missing)}")
        if ("sql" in r) == ("expect" in r):
            raise CatalogueError(f"{where}: a rule has either sql (a SQL file) or expect (a GX suite), not both")
        if not _ID.match(r["id"]) or r["id"] in seen:
            raise CatalogueError(f"{where}: id must be R-<two letters>-<three digits> and unique")
        seen.add(r["id"])
        layer, _, table = str(r["asset"]).partition(".")
        if layer not in LAYERS or not table:
            raise CatalogueError(f"{where}: asset must be a platform or staging table, e.g. platform.student")
        if "expect" in r and layer != "staging":
            raise CatalogueError(f"{where}: GX suites (expect) guard canonical relations, e.g. staging.student")
        ident(table)
        if r["dimension"] not in DIMENSIONS:
            raise CatalogueError(f"{where}: dimension {r['dimension']!r} is not one of {', '.join(DIMENSIONS)}")
        if r["severity"] not in SEVERITIES:
            raise CatalogueError(f"{where}: severity must be error or warning")
        tolerance = str(r["tolerance"])
        if not re.fullmatch(r"\d+|\d+(\.\d+)?%", tolerance):
            raise CatalogueError(f"{where}: tolerance is a row count (0) or a share (1%)")
        if "expect" in r:
            try:
                parse(r["id"], r["expect"])
            except SuiteError as err:
                raise CatalogueError(f"{where}: {err}") from None
        elif not (SQL_DIR / f"{ident(r['sql'])}.sql").exists():
            raise CatalogueError(f"{where}: sql {r['sql']!r}: expected {SQL_DIR / (r['sql'] + '.sql')}")
        for key in ("years", "until"):
            if r.get(key):
                parse_year(str(r[key]))
        rules.append(
            Rule(
                id=r["id"],
                asset=r["asset"],
                dimension=r["dimension"],
                severity=r["severity"],
                tolerance=tolerance,
                owner=r["owner"],
                sql=r.get("sql", ""),
                expect=r.get("expect"),
                message=r["message"],
                hint=r["hint"],
                years=str(r.get("years") or ""),
                until=str(r.get("until") or ""),
                covers=tuple(r.get("covers") or ()),
            )
        )
    return rules


def ready_by(opens: date, working_days: int = 5) -> tuple[date, bool]:
    """The day ``working_days`` Chinese working days before ``opens`` (chinese-calendar knows the public
    holidays and the weekend make-up days). The flag is False when the calendar does not cover the year
    yet: plain weekdays are counted then."""
    import chinese_calendar

    day, left, exact = opens, working_days, True
    while left:
        day -= timedelta(days=1)
        try:
            work = chinese_calendar.is_workday(day)
        except NotImplementedError:
            work, exact = day.weekday() < 5, False
        left -= work
    return day, exact


def rule_params(
    con: duckdb.DuckDBPyConnection, academic_year: str, settings: Settings, now: datetime | None = None
) -> dict:
    """The parameters a rule's SQL may use: the platform's (year_params) and the previous year's
    partition and stock date (continuity), the check time (``$checked_at``), the source age limit and the
    readiness date with the national tables still empty (timeliness)."""
    pack = pack_for_year(academic_year)
    params = year_params(academic_year, pack, settings.template_overrides)
    start = parse_year(academic_year)
    stock = params["stock_date"]
    params |= {
        "previous_year": f"{start - 1}-{start}",
        "previous_stock_date": date(stock.year - 1, stock.month, min(stock.day, 28) if stock.month == 2 else stock.day),
        CLOCK: now or datetime.now(timezone.utc),
        "max_source_age_hours": settings.max_source_age_hours,
        "max_row_drop": settings.max_row_drop,
        "ready_by": ready_by(date(start + 1, *settings.collection_opens))[0],
        "empty_tables": empty_tables(con, pack, academic_year),
    }
    return params


def empty_tables(con: duckdb.DuckDBPyConnection, pack: TemplatePack, academic_year: str) -> list[str]:
    """The national tables of the pack with no row for the year ('A3-2 图书馆情况', …)."""
    out = []
    for t in pack.tables:
        sql, where = table_query(t)
        try:
            n = con.execute(f"select count(*) from ({sql})", [academic_year, *where]).fetchall()[0][0]
        except duckdb.CatalogException:  # never built
            n = 0
        if not n:
            out.append(f"{t.number} {t.name}")
    return out


def evaluate(con: duckdb.DuckDBPyConnection, rule: Rule, academic_year: str, params: dict) -> RuleResult:
    """Evaluate one SQL rule (GX rules are evaluated a table at a time: evaluate_all)."""
    checked, rows = _failing_rows(con, rule, academic_year, params)
    return _result(rule, academic_year, checked, rows, _sources(con, _ids(rows)))


def evaluate_all(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule],
    academic_year: str,
    params: dict,
    model: Model | None,
    translations: dict[str, dict[str, set[str]]] | None = None,
    prints: Fingerprints | None = None,
) -> list[RuleResult]:
    """Evaluate rules: SQL rules one by one, GX rules as one suite per canonical relation; then trace every
    failing row to its source in one pass over the raw tables. ``translations``: canonical entity -> field
    -> the values its mappings translate to (model.mapping.translations). ``prints``: a fingerprint cache to fill
    (and share with the gate, which reads the same tables right after)."""
    prints = prints or Fingerprints(con, academic_year, previous_year(academic_year))
    suites = _suites(con, rules, params, model, translations, prints)  # validated there while the SQL rules run here
    found = {r.id: _failing_rows(con, r, academic_year, params) for r in rules if not r.expect}
    fingerprints = {r.id: prints.of(r.tables()) for r in rules}  # still while the suites are validated
    for suite in suites:
        found |= suite.result()
    sources = _sources(con, [i for checked, rows in found.values() for i in _ids(rows)])
    return [replace(_result(r, academic_year, *found[r.id], sources), fingerprint=fingerprints[r.id]) for r in rules]


def start_suites(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule],
    params: dict,
    model: Model,
    translations: dict[str, dict[str, set[str]]] | None,
    prints: Fingerprints,
) -> None:
    """Start the GX suites of ``rules`` now, in the second process, for ``evaluate_all`` to take in a later step of
    the same run (expectations/suites.py: the suites started ahead). Only where they run beside this process."""
    forget_ahead()
    if offload.available():
        _suites(con, rules, params, model, translations, prints, ahead=True)


def _suites(con, rules: list[Rule], params, model: Model, translations, prints: Fingerprints, ahead=False) -> list:
    """One suite per canonical relation with ``expect:`` rules among ``rules``, handed to the second process."""
    translations = translations or {}
    by_table: dict[str, list[Rule]] = {}
    for r in rules:
        if r.expect:
            by_table.setdefault(r.table, []).append(r)
    out = []
    for table, table_rules in by_table.items():
        table_rules.sort(key=lambda r: r.id)  # one suite whatever the order they come in (the key of one started ahead)
        if table not in model.entities:
            raise CatalogueError(f"{table_rules[0].id}: staging.{table} is not an entity of the canonical model")
        # the fingerprint identifies the relation to a suite started ahead (none: no need to take it first)
        fingerprint = prints.of([("staging", table)]) if ahead or started_ahead() else None
        entity = model.entities[table]
        out.append(
            run_suite(con, table, entity, table_rules, params, translations.get(table), fingerprint, ahead=ahead)
        )
    if not ahead:
        forget_ahead()  # those not taken were about data that has changed since
    return out


def _failing_rows(con, rule: Rule, academic_year: str, params: dict) -> tuple[int, list[tuple]]:
    """(rows checked, failing rows) of one SQL rule."""
    sql = rule.sql_text()
    rows = con.execute(f"select _raw_id, column_name, value from ({sql})", params_used(sql, params)).fetchall()
    if rule.layer == "platform":
        checked = con.execute(
            f"select count(*) from platform.{ident(rule.table)} where academic_year = ?", [academic_year]
        ).fetchall()[0][0]
    else:
        checked = con.execute(f"select count(*) from staging.{ident(rule.table)}").fetchall()[0][0]
    return checked, rows


def _ids(rows: list[tuple]) -> list[str]:
    return [r[0] for r in rows if r[0] is not None]


def _result(rule: Rule, academic_year: str, checked: int, rows: list[tuple], sources: dict) -> RuleResult:
    failures = [
        dict(zip(("source_system", "source_table", "source_key"), sources.get(raw_id, (None, None, None))))
        | {"column_name": column, "value": None if value is None else str(value), "raw_id": raw_id}
        for raw_id, column, value in rows
    ]
    return RuleResult(rule, academic_year, len(rows), checked, failures)


def _sources(con: duckdb.DuckDBPyConnection, raw_ids: list[str]) -> dict[str, tuple]:
    """raw id -> (system, source table or the very file, source key), from the raw tables (only when rules fail)."""
    return {i: (r["system"], r["table"], r["key"]) for i, r in source_rows(con, raw_ids).items()}


def record(con: duckdb.DuckDBPyConnection, run_id: str, results: list[RuleResult]) -> None:
    """Keep every evaluation (``audit.rule_result``: the history of each rule's counts, run after run) and the
    failing rows of each rule's latest evaluation (``audit.rule_failure``): the rows an earlier run recorded for
    the same rule and year are replaced, so a night that finds the same failures does not grow the warehouse."""
    now = datetime.now(timezone.utc)
    con.execute(
        "delete from audit.rule_failure where run_id <> ? and academic_year || chr(31) || rule_id in "
        "(select unnest(?::varchar[]))",
        [run_id, [f"{r.academic_year}\x1f{r.rule.id}" for r in results]],
    )
    insert_rows(con, "audit", "rule_result", [
        [run_id, r.academic_year, r.rule.id, r.rule.asset, r.rule.severity, r.passed, r.failing, r.checked,
         r.rule.tolerance, now, r.fingerprint]
        for r in results
    ])  # fmt: skip
    rows = [
        [run_id, r.academic_year, r.rule.id, f["source_system"], f["source_table"], f["source_key"],
         f["column_name"], f["value"], f["raw_id"]]
        for r in results
        for f in r.failures
    ]  # fmt: skip
    insert_rows(con, "audit", "rule_failure", rows)


def recheck(
    con: duckdb.DuckDBPyConnection, rules: list[Rule], academic_year: str, params: dict, run_id: str
) -> list[str]:
    """Evaluate ``rules`` again on unchanged data (those that read the clock, on a night when nothing changed).
    When each comes out as its latest recorded evaluation did (passed or not, the counts, the failing rows), the
    evaluations are recorded and [] is returned. Else nothing is recorded and each rule that changed is named:
    the outputs that showed the old results must be written again."""
    results = evaluate_all(con, rules, academic_year, params, model=None)
    latest = latest_results(con, academic_year)
    changed = []
    for r in results:
        run, before = latest.get(r.rule.id, (None, {}))
        failures = con.execute(
            "select column_name, value from audit.rule_failure where run_id = ? and academic_year = ? "
            "and rule_id = ? order by all",
            [run, academic_year, r.rule.id],
        ).fetchall()
        now = sorted((f["column_name"], f["value"]) for f in r.failures)
        if (before.get("passed"), before.get("failing"), before.get("checked"), failures) != (
            r.passed, r.failing, r.checked, now
        ):  # fmt: skip
            changed.append(f"{r.rule.id} {r.rule.message}")
    if not changed:
        record(con, run_id, results)
    return changed


def reused_results(
    con: duckdb.DuckDBPyConnection, rules: list[Rule], academic_year: str, prints: Fingerprints
) -> list[RuleResult]:
    """The latest recorded results of those ``rules`` that still hold, with their failing rows as recorded: the rule
    is ``reusable`` and every table it examines has the fingerprint it had when the result was made. The caller
    decides whether a result may be reused at all (the rule's definition and the code that evaluates it are
    unchanged: warehouse/inputs.py reusable)."""
    latest = latest_results(con, academic_year)
    kept = {}
    for r in rules:
        run, before = latest.get(r.id, (None, {}))
        if r.reusable and before.get("fingerprint") and before["fingerprint"] == prints.of(r.tables()):
            kept[r.id] = (r, run, before)
    if not kept:
        return []
    failures: dict[str, list[dict]] = {}
    rows = con.execute(
        "select rule_id, source_system, source_table, source_key, column_name, value, raw_id from audit.rule_failure "
        "where academic_year = ? and run_id || chr(31) || rule_id in (select unnest(?::varchar[])) order by rowid",
        [academic_year, [f"{run}\x1f{rule_id}" for rule_id, (_, run, _) in kept.items()]],
    ).fetchall()
    names = ("source_system", "source_table", "source_key", "column_name", "value", "raw_id")
    for rule_id, *values in rows:
        failures.setdefault(rule_id, []).append(dict(zip(names, values)))
    return [
        RuleResult(r, academic_year, b["failing"], b["checked"], failures.get(r.id, []), b["fingerprint"], True)
        for r, _, b in kept.values()
    ]


def latest_results(con: duckdb.DuckDBPyConnection, academic_year: str) -> dict[str, tuple[str, dict]]:
    """rule id -> (run id, the rule's latest recorded result for the academic year)."""
    rows = con.execute(
        """select rule_id, run_id, passed, failing, checked, checked_at, fingerprint from audit.rule_result
           where academic_year = ? qualify row_number() over (partition by rule_id order by checked_at desc) = 1""",
        [academic_year],
    ).fetchall()
    return {
        r[0]: (r[1], dict(passed=r[2], failing=r[3], checked=r[4], checked_at=r[5], fingerprint=r[6])) for r in rows
    }


def latest_checked_year(con: duckdb.DuckDBPyConnection) -> str | None:
    """The academic year the rules were last evaluated for, or None before any evaluation."""
    rows = con.execute("select academic_year from audit.rule_result order by checked_at desc limit 1").fetchall()
    return rows[0][0] if rows else None


def checked_years(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The academic years the rules have been evaluated for."""
    return {r[0] for r in con.execute("select distinct academic_year from audit.rule_result").fetchall()}


STALE, UNCHECKED = "检查后数据已变化（如运行中途失败），需重新运行 statedata run", "尚未检查：请运行 statedata run"


def _blocks(
    con: duckdb.DuckDBPyConnection, rules: list[Rule], academic_year: str, prints: Fingerprints | None = None
) -> list[tuple[Rule, bool, str]]:
    """(rule, whether its result is no longer about the data, why in Chinese) of every error rule that stops the
    year's submission."""
    latest = latest_results(con, academic_year)
    if not latest:
        raise ValueError(f"no rule has been evaluated for {academic_year}: run `statedata run --year {academic_year}`")
    prints = prints or Fingerprints(con, academic_year, previous_year(academic_year))
    out = []
    for r in rules:
        if r.severity != "error" or not r.applies(academic_year):
            continue
        if r.id not in latest:
            out.append((r, True, UNCHECKED))
        elif latest[r.id][1]["fingerprint"] != prints.of(r.tables()):
            out.append((r, True, STALE))
        elif not latest[r.id][1]["passed"]:
            out.append((r, False, f"{latest[r.id][1]['failing']} 行不符"))
    return out


def blocking_rules(
    con: duckdb.DuckDBPyConnection, rules: list[Rule], academic_year: str, prints: Fingerprints | None = None
) -> list[tuple[Rule, str]]:
    """The error rules that stop the year's submission, each with why (in Chinese, for the people who fix it):
    its latest evaluation failed; or the tables it examined have changed since (their fingerprint differs: a run
    rebuilt them and stopped before its rules, or they were edited), so its pass no longer says anything; or it
    applies to the year and was never evaluated. A year whose rules have never been evaluated is refused.
    ``prints``: the fingerprints already computed for this state of the warehouse (the rules step's)."""
    return [(r, why) for r, _, why in _blocks(con, rules, academic_year, prints)]


def stale_results(con: duckdb.DuckDBPyConnection, rules: list[Rule], academic_year: str) -> list[Rule]:
    """The rules whose latest result for the year is no longer about the data in the tables."""
    return [r for r, stale, _ in _blocks(con, rules, academic_year) if stale]


def failures_report(
    con: duckdb.DuckDBPyConnection, rules: list[Rule], academic_year: str, dept: str | None = None
) -> list[dict]:
    """The failing rules of the year's latest evaluation (of one department, or all), each with its
    failing source rows grouped by system, table and column: one root cause reads as one group."""
    latest = latest_results(con, academic_year)
    out = []
    for rule in rules:
        if (dept and rule.owner != dept) or rule.id not in latest or latest[rule.id][1]["passed"]:
            continue
        run_id, result = latest[rule.id]
        rows = con.execute(
            """select source_system, source_table, column_name, source_key, value from audit.rule_failure
               where run_id = ? and academic_year = ? and rule_id = ? order by all""",
            [run_id, academic_year, rule.id],
        ).fetchall()
        groups: dict[tuple, list] = {}
        for system, table, column, key, value in rows:
            groups.setdefault((system, table, column), []).append((key, value))
        out.append(
            dict(
                rule=rule,
                run_id=run_id,
                failing=result["failing"],
                checked=result["checked"],
                checked_at=result["checked_at"],
                groups=[dict(system=s, table=t, column=c, rows=r) for (s, t, c), r in groups.items()],
            )
        )
    return out


def docs_markdown(rules: list[Rule]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from `expectations/catalogue.yaml` by `python -m expectations.rules`; do not edit by hand.",
        "Each rule is an asset check on the table it guards: a staging table (every current source row, whatever",
        "the year) or a national table (the academic year's rows). `GX` rules run as one Great Expectations suite",
        "per staging table (expectations/suites.py); `SQL` rules are files in expectations/sql that return the",
        "failing rows. A failing `error` rule fails its check with severity ERROR and blocks `statedata package`",
        "for the year (`--draft` builds a marked draft); the exports are then written as a marked draft too. A",
        "`warning` rule fails with WARN and needs an explanation. Tolerance: failing rows allowed (a count, or a",
        "share of the table's rows). `statedata failures --dept <部门>` lists what each department must fix.",
        "",
        "| id | table | dimension | severity | tolerance | owner | years | checked by | message | how to fix |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rules:
        years = f"{r.years or '…'} – {r.until or ''}".strip()
        how = f"GX: {_expect_text(r.expect)}" if r.expect else f"SQL: `{r.sql}.sql`"
        lines.append(
            f"| {r.id} | `{r.asset}` | {r.dimension} | {r.severity} | {r.tolerance} | {r.owner} | {years} "
            f"| {how} | {r.message} | {r.hint} |"
        )
    return "\n".join(lines) + "\n"


def _expect_text(spec) -> str:
    parts = []
    for kind, arg in parse("docs", spec):
        if arg is None:
            parts.append(kind)
        elif isinstance(arg, dict):
            parts.append(f"{kind}({', '.join(f'{k}={v}' for k, v in arg.items())})")
        else:
            parts.append(f"{kind}({', '.join(arg) if isinstance(arg, list) else arg})")
    return ", ".join(parts)


if __name__ == "__main__":
    sys.stdout.write(docs_markdown(load_catalogue()))
