"""What the portal reads from the warehouse: always the snapshot the last completed run published (the newest
verified backup, ``warehouse.backup``), opened read-only, so a nightly run writing the warehouse is never
blocked nor read half-way. One read-only connection per snapshot and process; each request takes a cursor.
"""

import hashlib
import re
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from expectations.generated import rule_set
from expectations.rules import Rule, checked_years, failures_report, latest_checked_year, latest_results
from model.canonical import load_model
from model.mapping import SourceSpec, load_mappings, pii_fields
from model.settings import Settings
from reporting.forms import form_department
from reporting.indicators import indicator_results
from reporting.templates import TableTemplate, TemplateError, pack_for_year
from warehouse.backup import backups
from warehouse.db import quote

NO_SNAPSHOT = "尚无完成的运行：请先运行 statedata run（每次运行完成后，审核平台读取其发布的数据）。"


class NoSnapshot(RuntimeError):
    pass


@dataclass
class Snapshot:
    name: str  # the backup file's name: which completed run this is
    con: duckdb.DuckDBPyConnection


_lock = threading.Lock()
_open: dict[Path, duckdb.DuckDBPyConnection] = {}
# What was computed from a snapshot, kept while it is the newest: a snapshot never changes. Each cursor handed
# out is registered with its snapshot's memo; any other connection (the warehouse `statedata package` reads)
# gets nothing cached.
_memo: dict[Path, dict] = {}
_memo_of: "weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict]" = weakref.WeakKeyDictionary()


def latest(settings: Settings) -> Snapshot:
    """A cursor on the newest published snapshot."""
    found = backups(settings.backups_dir)
    if not found:
        raise NoSnapshot(NO_SNAPSHOT)
    path = found[-1]
    with _lock:
        if path not in _open:
            for old in [p for p in _open if p.parent == path.parent]:  # a newer run published: let it go
                _open.pop(old).close()
                _memo.pop(old, None)
            _open[path] = duckdb.connect(str(path), read_only=True)
        cursor = _open[path].cursor()
        _memo_of[cursor] = _memo.setdefault(path, {})
        return Snapshot(path.name, cursor)


def cached(con, key, compute):
    """``compute()``, once per snapshot when ``con`` reads one; every time for any other connection."""
    memo = _memo_of.get(con)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


BEIJING = timezone(timedelta(hours=8))


def entity_title(entity: str) -> str:
    """A canonical entity's Chinese title (教职工基本信息 …), or its name."""
    e = load_model().entities.get(entity)
    return e.title if e else entity


def snapshot_label(name: str) -> str:
    """'数据截至 2026-11-29 19:40' (Beijing time) for a backup named warehouse-20261129T114028597425Z.duckdb."""
    m = re.search(r"(\d{8}T\d{6})", name)
    if not m:
        return f"数据：{name}"
    at = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc).astimezone(BEIJING)
    return f"数据截至 {at:%Y-%m-%d %H:%M}（最近一次完成的运行）"


_RULES: dict[Path, list[Rule]] = {}


def rules(settings: Settings) -> list[Rule]:
    """The college's rule set (catalogue and generated), read once per process."""
    if settings.mappings_dir not in _RULES:
        _RULES[settings.mappings_dir] = rule_set(settings)
    return _RULES[settings.mappings_dir]


def rule(settings: Settings, rule_id: str) -> Rule | None:
    return next((r for r in rules(settings) if r.id == rule_id), None)


_MAPPINGS: dict[Path, tuple[tuple, dict]] = {}


def mappings(settings: Settings) -> dict[str, SourceSpec]:
    """The college's mapping files, read again only when one of them changed."""
    folder = settings.mappings_dir
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.yaml")))
    if folder not in _MAPPINGS or _MAPPINGS[folder][0] != stamp:
        _MAPPINGS[folder] = (stamp, load_mappings(folder))
    return _MAPPINGS[folder][1]


def pii(settings: Settings) -> dict[str, str]:
    """Column name -> kind of personal value (masked unless revealed)."""
    return pii_fields(mappings(settings), load_model())


def years(con) -> list[str]:
    return cached(con, "years", lambda: sorted(checked_years(con), reverse=True))


def default_year(con) -> str | None:
    return cached(con, "default_year", lambda: latest_checked_year(con))


def tables_of(settings: Settings, academic_year: str, department: str | None = None) -> list[TableTemplate]:
    """The national tables of the year's template pack (of one department: the tables it answers for)."""
    try:
        pack = pack_for_year(academic_year)
    except TemplateError:
        return []
    return [t for t in pack.ordered_tables() if department is None or owner(settings, t) == department]


def owner(settings: Settings, table: TableTemplate) -> str:
    return settings.college.department(table.owner)


def departments(settings: Settings, academic_year: str | None) -> list[str]:
    """Every department that owns a rule or a national table."""
    names = {r.owner for r in rules(settings)}
    if academic_year:
        names |= {owner(settings, t) for t in tables_of(settings, academic_year)}
    return sorted(names)


def failures(settings: Settings, con, academic_year: str, department: str | None = None) -> list[dict]:
    """The failing rules of the year's latest evaluation (failures_report), one department's or all (each a
    fresh dict: callers may add to it)."""
    found = cached(con, ("failures", academic_year, department),
                    lambda: failures_report(con, rules(settings), academic_year, department))  # fmt: skip
    return [dict(f) for f in found]


def _latest(con, academic_year: str) -> dict:
    return cached(con, ("latest", academic_year), lambda: latest_results(con, academic_year))


def results(con, academic_year: str) -> dict[str, dict]:
    """rule id -> its latest result for the year."""
    return {k: v for k, (_, v) in _latest(con, academic_year).items()}


def row_id(system, table, key, column) -> str:
    """A failing row's identity: where it comes from, which row, which column."""
    return "|".join("" if v is None else str(v) for v in (system, table, key, column))


def value_hash(value) -> str:
    """The hash of a failing value an explanation names (the value itself is not kept: it may be personal)."""
    return hashlib.sha256(("\x00" if value is None else str(value)).encode()).hexdigest()[:24]


def failing_rows(con, academic_year: str, rule_id: str) -> dict[str, tuple[str, dict]]:
    """row identity -> (value hash, the row) of a rule's failing rows in its latest evaluation. Rows that share
    system, table, key and column (duplicate records) are told apart by their order: ``…#2``, ``…#3``."""
    return _failing_of_year(con, academic_year).get(rule_id, {})


def _failing_of_year(con, academic_year: str) -> dict[str, dict[str, tuple[str, dict]]]:
    """Every rule's failing rows of its latest evaluation for the year, read in one query."""

    def read():
        latest = {rule: run for rule, (run, _) in _latest(con, academic_year).items()}
        rows = con.execute(
            """select rule_id, run_id, source_system, source_table, source_key, column_name, value, raw_id
               from audit.rule_failure where academic_year = ? order by all""",
            [academic_year],
        ).fetchall()
        out: dict[str, dict[str, tuple[str, dict]]] = {}
        for rule_id, run_id, system, table, key, column, value, raw_id in rows:
            if latest.get(rule_id) != run_id:
                continue  # an earlier evaluation's rows
            mine = out.setdefault(rule_id, {})
            base = row_id(system, table, key, column)
            rid, n = base, 1
            while rid in mine:
                n += 1
                rid = f"{base}#{n}"
            mine[rid] = (value_hash(value), dict(system=system, table=table, key=key, column=column, value=value,
                                                 raw_id=raw_id, occurrence=n))  # fmt: skip
        return out

    return cached(con, ("failing", academic_year), read)


def _table_select(table: TableTemplate) -> tuple[str, list]:
    """The rows of a national table as the platform receives them: its key and its columns' fields only (not
    the lineage columns such as _raw_ids, which change with every load of the same data)."""
    fields = list(dict.fromkeys([*table.key, *(c.field for c in table.columns)]))
    where = "".join(f" and {quote(c)} = ?" for c, _ in table.where)
    sql = (
        f"select {', '.join(quote(f) for f in fields)} from platform.{quote(table.source_table)} "
        f"where academic_year = ?{where}"
    )
    return sql, [v for _, v in table.where]


def table_rows(con, table: TableTemplate, academic_year: str):
    """A national table's rows of the year (its template's part of a shared platform table), as Arrow; None
    when the platform table does not exist."""
    sql, params = _table_select(table)
    try:
        return con.sql(sql, params=[academic_year, *params]).to_arrow_table()
    except duckdb.CatalogException:
        return None


def table_sha256(con, table: TableTemplate, academic_year: str) -> str:
    """SHA-256 over a national table's rows of the year, in a fixed order: independent of how the rows are
    stored, changed by any value, row added or removed."""
    return cached(con, ("sha256", table.number, academic_year), lambda: _table_sha256(con, table, academic_year))


def indicators(con, academic_year: str) -> list[dict]:
    """The year's core indicators (reporting.indicators.indicator_results)."""
    return cached(con, ("indicators", academic_year), lambda: indicator_results(con, academic_year))


def indicator_history(con) -> tuple[list[str], dict[str, dict[str, float | None]]]:
    """Every academic year with core indicators, newest first, and indicator name -> year -> value."""

    def read():
        try:
            rows = con.execute("select academic_year, name, value from platform.core_indicator").fetchall()
        except duckdb.CatalogException:
            return [], {}
        out: dict[str, dict[str, float | None]] = {}
        for year, name, value in rows:
            out.setdefault(name, {})[year] = value
        return sorted({r[0] for r in rows}, reverse=True), out

    return cached(con, "indicator_history", read)


def forms_of(settings: Settings, department: str) -> list[tuple[SourceSpec, str]]:
    """The department forms (部门填报表) a department fills: (file source, entity name) of every entity of a file
    source that feeds a form entity of the canonical model and that the department answers for."""
    model = load_model()
    out = []
    for spec in mappings(settings).values():
        for name, e in spec.entities.items():
            canon = model.entities.get(e.entity or name)
            owner = settings.college.department(form_department(spec, e))
            if spec.kind == "files" and canon is not None and canon.form and owner == department:
                out.append((spec, name))
    return out


def raw_tables(settings: Settings, sources: set[tuple[str, str]]) -> list[str]:
    """The raw tables that hold rows of these (system, source table or file): a SQL table's own, or for a drop
    every table of its system."""
    out = set()
    for spec in mappings(settings).values():
        for name, e in spec.entities.items():
            if any(system == spec.system and (e.table is None or e.table == table) for system, table in sources):
                out.add(spec.table_name(name))
    return sorted(out)


def _table_sha256(con, table: TableTemplate, academic_year: str) -> str:
    sql, params = _table_select(table)
    try:
        rows = con.execute(
            f"select cast(t as varchar) as r from ({sql}) as t order by r", [academic_year, *params]
        ).fetchall()
    except duckdb.CatalogException:
        return "absent"
    h = hashlib.sha256()
    for (r,) in rows:
        h.update(r.encode())
        h.update(b"\n")
    return h.hexdigest()
