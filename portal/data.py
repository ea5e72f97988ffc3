"""What the portal reads from the warehouse: always the snapshot the last completed run published (the newest
verified backup, ``warehouse.backup``), opened read-only, so a nightly run writing the warehouse is never
blocked nor read half-way. One read-only connection per snapshot and process; each request takes a cursor.
"""

import hashlib
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from expectations.generated import rule_set
from expectations.rules import Rule, checked_years, failures_report, latest_checked_year, latest_results
from model.canonical import load_model
from model.mapping import load_mappings, pii_fields
from model.settings import Settings
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


def latest(settings: Settings) -> Snapshot:
    """A cursor on the newest published snapshot."""
    found = backups(settings.backups_dir)
    if not found:
        raise NoSnapshot(NO_SNAPSHOT)
    path = found[-1]
    with _lock:
        if path not in _open:
            for old in list(_open):  # a newer run published: let the older snapshot go
                _open.pop(old).close()
            _open[path] = duckdb.connect(str(path), read_only=True)
        return Snapshot(path.name, _open[path].cursor())


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


def pii(settings: Settings) -> dict[str, str]:
    """Column name -> kind of personal value (masked unless revealed)."""
    return pii_fields(load_mappings(settings.mappings_dir), load_model())


def years(con) -> list[str]:
    return sorted(checked_years(con), reverse=True)


def default_year(con) -> str | None:
    return latest_checked_year(con)


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
    """The failing rules of the year's latest evaluation (failures_report), one department's or all."""
    return failures_report(con, rules(settings), academic_year, department)


def results(con, academic_year: str) -> dict[str, dict]:
    """rule id -> its latest result for the year."""
    return {k: v for k, (_, v) in latest_results(con, academic_year).items()}


def row_id(system, table, key, column) -> str:
    """A failing row's identity: where it comes from, which row, which column."""
    return "|".join("" if v is None else str(v) for v in (system, table, key, column))


def value_hash(value) -> str:
    """The hash of a failing value an explanation names (the value itself is not kept: it may be personal)."""
    return hashlib.sha256(("\x00" if value is None else str(value)).encode()).hexdigest()[:24]


def failing_rows(con, academic_year: str, rule_id: str) -> dict[str, tuple[str, dict]]:
    """row identity -> (value hash, the row) of a rule's failing rows in its latest evaluation. Rows that share
    system, table, key and column (duplicate records) are told apart by their order: ``…#2``, ``…#3``."""
    latest = latest_results(con, academic_year).get(rule_id)
    if latest is None:
        return {}
    rows = con.execute(
        """select source_system, source_table, source_key, column_name, value, raw_id from audit.rule_failure
           where run_id = ? and academic_year = ? and rule_id = ? order by all""",
        [latest[0], academic_year, rule_id],
    ).fetchall()
    out: dict[str, tuple[str, dict]] = {}
    for system, table, key, column, value, raw_id in rows:
        base = row_id(system, table, key, column)
        rid, n = base, 1
        while rid in out:
            n += 1
            rid = f"{base}#{n}"
        row = dict(system=system, table=table, key=key, column=column, value=value, raw_id=raw_id, occurrence=n)
        out[rid] = (value_hash(value), row)
    return out


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
