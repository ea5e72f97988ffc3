"""Explain one reported number: the chain from a cell of a national table down to the source rows.

For a cell: its value, the template column that defines it (table number, header, source), the SQL file
that computed it, and the source rows behind it. For an aggregated cell those are the rows its lineage
records (warehouse/lineage.py) with the amount each contributes; for a cell copied from a row, the rows
the national row was built from (its ``_raw_ids``). Each source row comes with its system, table, key,
extraction batch and time, and its raw values as extracted.
"""

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from connectors.base import SourceError
from model.mapping import SourceSpec
from model.settings import SettingsError
from reporting.templates import TableTemplate, TemplatePack
from warehouse.db import qualified, quote, table_names
from warehouse.lineage import resolve
from warehouse.raw import row_identity_sql

PEDIGREE = {"_source_system", "_source_table", "_source_key", "_row_hash", "_raw_id", "_batch_id", "_extracted_at",
            "_valid_to_batch", "_source_file", "_source_sheet", "_source_row"}  # fmt: skip


class TraceError(ValueError):
    """The cell asked for does not exist; the message says what does."""


@dataclass
class Cell:
    template: TableTemplate
    column: str  # field name
    header: str
    source: str  # the template's source of the column
    row_key: str
    value: object


def find_cell(
    con: duckdb.DuckDBPyConnection, pack: TemplatePack, academic_year: str, table: str, row_key: str, column: str
) -> Cell:
    """Resolve 'A1' or 'school_basic', a row key ('4141099999', '510201|' for catalog code + direction)
    and a column (field name or Chinese header) to one cell of the year."""
    candidates = [t for t in pack.tables if table in (t.number, t.id, t.source_table)]
    if not candidates:
        raise TraceError(f"no national table {table!r} in {pack.pack}; e.g. A1, A7-1-1 or school_basic")
    for t in candidates:
        col = next((c for c in t.columns if column in (c.field, c.header)), None)
        if col is not None:
            break
    else:
        names = ", ".join(f"{c.field} ({c.header})" for c in candidates[0].columns)
        raise TraceError(f"{candidates[0].number} has no column {column!r}; columns: {names}")
    filters = "".join(f" and {quote(k)} = ?" for k, _ in t.where)
    key_expr = f"concat_ws('|', {', '.join(quote(k) for k in t.key)})"
    rows = con.execute(
        f"select {quote(col.field)} from {qualified('platform', t.source_table)} "
        f"where academic_year = ?{filters} and {key_expr} = ?",
        [academic_year, *[v for _, v in t.where], row_key],
    ).fetchall()
    if not rows:
        some = con.execute(
            f"select {key_expr} from {qualified('platform', t.source_table)} where academic_year = ?{filters} "
            "order by 1 limit 5",
            [academic_year, *[v for _, v in t.where]],
        ).fetchall()
        raise TraceError(
            f"{t.number} {t.name} has no row {row_key!r} in {academic_year} (key: {' | '.join(t.key)}); "
            f"e.g. {', '.join(repr(r[0]) for r in some) or 'none: run the year first'}"
        )
    return Cell(t, col.field, col.header, col.source, row_key, rows[0][0])


def contributors(
    con: duckdb.DuckDBPyConnection, cell: Cell, academic_year: str, limit: int | None = None
) -> tuple[str, int, float | None, list[tuple]]:
    """(kind, how many rows, the sum of their amounts, the first ``limit`` rows as (raw id, amount)):
    'aggregate' from the recorded lineage, or 'row' from the national row's _raw_ids for a cell copied
    from its source row(s) (no amounts then)."""
    t = cell.template
    has_lineage = con.execute(
        "select count(*) from lineage.cell where table_name = ? and academic_year = ? and column_name = ?",
        [t.source_table, academic_year, cell.column],
    ).fetchall()[0][0]
    if has_lineage:
        n, total, rows = resolve(con, t.source_table, academic_year, t.lineage_key(cell.row_key), cell.column, limit)
        return "aggregate", n, total, rows
    filters = "".join(f" and {quote(k)} = ?" for k, _ in t.where)
    ids = (
        con.execute(
            f"select _raw_ids from {qualified('platform', t.source_table)} where academic_year = ?{filters} "
            f"and concat_ws('|', {', '.join(quote(k) for k in t.key)}) = ?",
            [academic_year, *[v for _, v in t.where], cell.row_key],
        ).fetchall()[0][0]
        or []
    )
    return "row", len(ids), None, [(i, None) for i in ids[:limit]]


def source_rows(con: duckdb.DuckDBPyConnection, raw_ids: list[str], tables: list[str] | None = None) -> dict[str, dict]:
    """raw id -> the raw row: pedigree (system, table or file, key, batch, time) and its values. ``tables``: the
    raw tables to look in, when the caller knows (else every one)."""
    out: dict[str, dict] = {}
    if not raw_ids:
        return out
    names = table_names(con, "raw")
    for name in names if tables is None else [t for t in tables if t in names]:
        cur = con.execute(
            f"select * from {qualified('raw', name)} where _raw_id in (select unnest(?::varchar[]))", [raw_ids]
        )
        columns = [d[0] for d in cur.description]
        for row in cur.fetchall():
            r = dict(zip(columns, row))
            out[r["_raw_id"]] = {
                "raw_table": f"raw.{name}",
                "system": r["_source_system"],
                "table": r.get("_source_file") or r["_source_table"],
                "key": r["_source_key"],
                "batch": r.get("_batch_id"),
                "extracted_at": r.get("_extracted_at"),
                "current": r.get("_valid_to_batch") is None,
                "row_hash": r.get("_row_hash"),
                "values": {k: v for k, v in r.items() if k not in PEDIGREE},
            }
    return out


def trace_indicator(
    con: duckdb.DuckDBPyConnection, academic_year: str, name: str, defs: dict, limit: int | None = None
) -> dict:
    """A core indicator: its value and formula, the derived figures it uses, and each input with its value,
    the published cell it is read from and that cell's source rows (platform.indicator_input's lineage)."""
    wanted = next((i for i in defs["indicators"] if name in (i["id"], i["name"])), None)
    if wanted is None:
        names = "、".join(i["name"] for i in defs["indicators"])
        raise TraceError(f"no core indicator {name!r}; indicators: {names}")
    row = con.execute(
        "select value, unit, compare, pass_threshold, pass_result from platform.core_indicator "
        "where academic_year = ? and indicator_id = ?",
        [academic_year, wanted["id"]],
    ).fetchall()
    if not row:
        raise TraceError(f"{wanted['name']} has not been computed for {academic_year}: run `statedata run` first")
    derived = {d["id"]: d for d in defs["derived"]}
    used, steps, todo = [], [], sorted(wanted["formula"].names())
    while todo:  # expand derived figures down to inputs and constants
        n = todo.pop(0)
        if n in derived:
            steps.append({"id": n, "name": derived[n]["name"], "formula": derived[n]["formula"].text})
            todo += sorted(derived[n]["formula"].names() - {s["id"] for s in steps} - set(todo))
        elif n not in used:
            used.append(n)
    inputs = []
    for n in sorted(used):
        found = con.execute(
            "select value, source from platform.indicator_input where academic_year = ? and input = ?",
            [academic_year, n],
        ).fetchall()
        count, total, rows = resolve(con, "indicator_input", academic_year, n, "value", limit)
        constant = (defs.get("constants") or {}).get(n)
        inputs.append(
            {
                "id": n,
                "label": defs["inputs"].get(n, n),
                "value": found[0][0] if found else constant,
                "source": found[0][1] if found else "constant (reporting/indicators)",
                "source_rows": count,
                "amounts_add_up_to": total if count else None,
                "rows": rows,
            }
        )
    value, unit, compare, threshold, verdict = row[0]
    return {
        "academic_year": academic_year,
        "indicator": wanted["id"],
        "name": wanted["name"],
        "value": value,
        "unit": unit,
        "formula": wanted["formula"].text,
        "standard": None if threshold is None else f"{compare} {threshold:g}",
        "verdict": verdict,
        "derived": steps,
        "inputs": inputs,
    }


def verify(
    con: duckdb.DuckDBPyConnection, rows: dict[str, dict], specs: dict[str, SourceSpec], locate: Callable
) -> dict[str, dict]:
    """Re-read the source rows (``source_rows``' output) from the live systems: raw id -> {status:
    unchanged | changed | vanished, fields: the fields whose values differ}. ``locate(spec)`` gives a
    source's URL or folder. Each source table is read once; its rows are compared by key and content hash,
    computed as the loader computes them."""
    # imported on use: only --verify needs the source clients (SQLAlchemy, ConnectorX, the drivers)
    from connectors.sources import open_source

    entities = {f"raw.{s.table_name(e.name)}": (s, e) for s in specs.values() for e in s.entities.values()}
    by_table: dict[str, list[str]] = {}
    for raw_id, r in rows.items():
        by_table.setdefault(r["raw_table"], []).append(raw_id)
    out = {}
    for raw_table, ids in by_table.items():
        spec, entity = entities[raw_table]
        try:
            source = open_source(spec, locate(spec))
            try:
                live = source.extract(entity).table
            finally:
                source.close()
        except (SettingsError, SourceError) as e:  # unreachable or unconfigured: say so, as a trace error
            raise TraceError(f"--verify cannot re-read {spec.system}: {e}") from None
        key_expr, hash_expr = row_identity_sql(entity)
        con.register("_live", live)
        try:
            keys = sorted({rows[i]["key"] for i in ids})
            cur = con.execute(
                f"select {key_expr} as _k, {hash_expr} as _h, * from _live where {key_expr} in (select unnest(?))",
                [keys],
            )
            names = [d[0] for d in cur.description]
            found = {}
            for values in cur.fetchall():
                r = dict(zip(names, values))
                found.setdefault(r["_k"], []).append(r)  # a key the source holds twice has two rows
        finally:
            con.unregister("_live")
        for i in ids:
            was = rows[i]
            live_rows = found.get(was["key"], [])
            if not live_rows:
                out[i] = {"status": "vanished", "fields": []}
            elif any(r["_h"] == was["row_hash"] for r in live_rows):
                out[i] = {"status": "unchanged", "fields": []}
            else:
                now = live_rows[0]
                fields = [f for f in entity.all_fields() if str(now.get(f)) != str(was["values"].get(f))]
                out[i] = {"status": "changed", "fields": fields}
    return out


def html_page(doc: dict) -> str:
    """A trace (the JSON document `statedata trace` prints) as a standalone page a reviewer can read:
    each step of the chain is a numbered section, linked from the summary at the top."""
    import html

    e = html.escape
    t, c = doc["table"], doc["column"]
    title = f"{t['number']} {t['name']} · {doc['row_key']} · {c['header']} · {doc['academic_year']}"
    how = (
        f"{doc['source_rows']} 行源数据，合计 {doc['amounts_add_up_to']:g}"
        if doc["kind"] == "aggregate"
        else f"取自国家表该行所依据的 {doc['source_rows']} 行源数据"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:75em}ol.chain li{margin:.3em 0}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
        "text-align:left;vertical-align:top}th{background:#ddebf7}.value{font-size:2em;font-weight:bold}"
        ".changed,.vanished{color:#c00000}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="value">{e(str(doc["value"]))}</p>',
        '<ol class="chain">',
        f'<li><a href="#column">模板列</a>：{e(doc["template_pack"])}，{e(c["header"])}（{e(c["field"])}）</li>',
        f'<li><a href="#sql">计算</a>：{e(doc["sql"])}</li>',
        f'<li><a href="#rows">源数据</a>：{e(how)}</li>',
        "</ol>",
        '<h2 id="column">1. 模板列</h2>',
        f"<p>国家表 {e(t['number'])} {e(t['name'])}，主键 {e(' + '.join(t['key']))} = {e(doc['row_key'])}；"
        f"列“{e(c['header'])}”，来源：{e(c['source'])}。</p>",
        '<h2 id="sql">2. 计算</h2>',
        f"<p>{e(doc['sql'])}"
        + (f"（血缘记录来自运行 {e(str(doc['lineage_run']))}）" if doc.get("lineage_run") else "")
        + "</p>",
        '<h2 id="rows">3. 源数据行</h2>',
        f"<p>{e(how)}"
        + ("；以下列出前 " + str(len(doc["rows"])) + " 行" if len(doc["rows"]) < doc["source_rows"] else "")
        + ("。" if doc.get("revealed") else "。姓名、身份证号、电话已遮蔽。")
        + "</p>",
    ]
    if "verify" in doc:
        v = doc["verify"]
        parts.append(
            f"<p>核对（重新读取源系统）：{v['unchanged']} 行未变，"
            f'<span class="changed">{len(v["changed"])} 行已修改</span>，'
            f'<span class="vanished">{len(v["vanished"])} 行已删除</span>。</p>'
        )
    parts.append("<table><tr><th>系统</th><th>表（文件）</th><th>主键</th><th>抽取批次</th><th>抽取时间</th>"
                 "<th>贡献</th><th>核对</th><th>原始值</th></tr>")  # fmt: skip
    for r in doc["rows"]:
        values = "<br>".join(f"{e(k)} = {e(str(v))}" for k, v in r["values"].items() if v is not None)
        status = r.get("verify", "")
        changed = f"（{e('、'.join(r.get('changed_fields') or []))}）" if r.get("changed_fields") else ""
        amount = "" if r["amount"] is None else f"{r['amount']:g}"
        parts.append(
            f"<tr><td>{e(str(r.get('system')))}</td><td>{e(str(r.get('table')))}</td><td>{e(str(r.get('key')))}</td>"
            f"<td>{e(str(r.get('batch')))}</td><td>{e(str(r.get('extracted_at')))}</td><td>{amount}</td>"
            f'<td class="{e(status)}">{e(status)}{changed}</td><td>{values}</td></tr>'
        )
    parts.append("</table></body></html>")
    return "\n".join(parts)


def latest_year(con: duckdb.DuckDBPyConnection, platform_table: str) -> str | None:
    """The newest academic year a platform table holds, or None while it holds none (or does not exist yet)."""
    if platform_table not in table_names(con, "platform"):
        return None
    return con.execute(f"select max(academic_year) from {qualified('platform', platform_table)}").fetchall()[0][0]


def lineage_run(con: duckdb.DuckDBPyConnection, platform_table: str, academic_year: str) -> str | None:
    """The run that recorded the cell lineage of one table and year."""
    return con.execute(
        "select any_value(run_id) from lineage.cell where table_name = ? and academic_year = ?",
        [platform_table, academic_year],
    ).fetchall()[0][0]
