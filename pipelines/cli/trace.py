"""statedata trace: explain one number (a cell or a core indicator) down to the source rows it came from."""

import json
import zipfile
from pathlib import Path

import click
import duckdb

from model.mapping import pii_fields
from model.masking import mask
from pipelines.cli.common import checked_year, fail, home_option, load_settings, load_specs, reading
from reporting import indicators
from reporting.templates import pack_for_year
from reporting.trace import (
    TraceError,
    contributors,
    find_cell,
    html_page,
    latest_year,
    lineage_run,
    source_rows,
    trace_indicator,
)
from reporting.trace import verify as verify_rows
from warehouse import db
from warehouse.db import WarehouseError
from warehouse.snapshot import find_snapshot

NO_INDICATORS = "no core indicator has been computed yet: run `statedata run` first"


@click.command()
@click.argument("table", required=False)
@click.argument("row_key", required=False)
@click.argument("column", required=False)
@click.option("--indicator", default=None, help="A core indicator instead of a cell, e.g. 生师比.")
@click.option("--verify", is_flag=True, help="Re-read every source row from the live systems: changed or vanished?")
@click.option(
    "--snapshot", default=None, help="Trace a packaged submission: its snapshot id, package folder or zip, or file."
)
@click.option("--year", "academic_year", default=None, help="Academic year [default: the latest one held].")
@click.option(
    "--limit", default=20, type=click.IntRange(min=0), show_default=True, help="Source rows shown (all are counted)."
)
@click.option("--reveal", is_flag=True, help="Show names, ID numbers and phones unmasked.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File for --format html [default: stdout].")
@home_option
def trace(table, row_key, column, indicator, verify, snapshot, academic_year, limit, reveal, fmt, out, home):
    """Explain one number: TABLE (A1 or school_basic), ROW_KEY (its key values joined by |, e.g. 4141099999
    or 510201| for 专业代码 + 方向) and COLUMN (field or Chinese header), down to the source rows; or
    --indicator 生师比: its formula, inputs, and the source rows of each input."""
    settings = load_settings(home)
    if academic_year is not None:
        checked_year(academic_year)
    if indicator is None and not (table and row_key and column):
        fail("give TABLE ROW_KEY COLUMN (e.g. A1 4141099999 全日制在校生数), or --indicator 生师比", 2)
    if out and not Path(out).parent.is_dir():
        fail(f"--out {out}: no folder {Path(out).parent}", 2)
    source = None
    if snapshot:
        try:
            source = find_snapshot(settings.home, snapshot)
        except FileNotFoundError as e:
            fail(str(e))
        except (OSError, ValueError, KeyError, StopIteration, zipfile.BadZipFile) as e:
            fail(f"--snapshot {snapshot}: not a package snapshot, package folder or zip ({type(e).__name__}: {e})")
    if indicator is not None:
        if fmt == "html":
            fail("--format html explains a cell; for an indicator use text or json", 2)
        _trace_indicator(indicator, academic_year, limit, fmt, settings, source)
        return
    specs = load_specs(settings)
    pii = pii_fields(specs)
    try:
        with _open(settings, source) as con:
            if academic_year is None:
                academic_year = latest_year(con, "school_basic")  # every run builds A1
                if academic_year is None:
                    fail("the warehouse holds no national table yet: run `statedata run` first")
            pack = pack_for_year(academic_year)
            cell = find_cell(con, pack, academic_year, table, row_key, column)
            kind, count, total, rows = contributors(con, cell, academic_year, None if verify else limit)
            sources = source_rows(con, [r for r, _ in rows])
            checked = {}
            if verify:
                checked = verify_rows(con, sources, specs, settings.source_location)
            run = lineage_run(con, cell.template.source_table, academic_year)
    except (WarehouseError, TraceError) as e:
        fail(str(e))
    except duckdb.CatalogException as e:  # a table the run builds is missing: the year was never run (whole)
        fail(f"{table} for {academic_year} is not in the warehouse yet ({str(e).splitlines()[0]}): "
             f"run `statedata run --year {academic_year}` first")  # fmt: skip
    t = cell.template
    # the traced value is masked like the source values when it is personal (a name, an ID number, a phone)
    kind_of = pii.get(cell.column) or pii.get(str(cell.source).rsplit(".", 1)[-1])
    value = cell.value if reveal or kind_of is None else mask(cell.value, kind_of)
    doc = {
        "academic_year": academic_year,
        "table": {"number": t.number, "name": t.name, "platform_table": t.source_table, "key": list(t.key)},
        "row_key": cell.row_key,
        "column": {"field": cell.column, "header": cell.header, "source": cell.source},
        "value": value,
        "template_pack": f"{pack.pack} {pack.version}",
        "sql": f"warehouse/sql/platform/{t.source_table}.sql" if not t.form else f"generated from {t.form}",
        "kind": kind,
        "snapshot": str(source) if snapshot else None,
        "revealed": reveal,
        "lineage_run": run if kind == "aggregate" else None,
        "source_rows": count,
        "amounts_add_up_to": total,
        "rows": [
            {"raw_id": r, "amount": a}
            | {k: v for k, v in sources.get(r, {}).items() if k not in ("values", "row_hash")}
            | {
                "values": {
                    f: (v if reveal else mask(v, pii.get(f))) for f, v in sources.get(r, {}).get("values", {}).items()
                }
            }
            | ({"verify": checked[r]["status"], "changed_fields": checked[r]["fields"]} if r in checked else {})
            for r, a in rows[:limit]
        ],
    }
    if verify:
        doc["verify"] = {
            status: sorted(sources[r]["key"] for r, c in checked.items() if c["status"] == status)
            for status in ("changed", "vanished")
        } | {"unchanged": sum(c["status"] == "unchanged" for c in checked.values()), "checked": len(checked)}
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=1, default=str))
        return
    if fmt == "html":
        page = html_page(doc)
        if out:
            Path(out).write_text(page, encoding="utf-8")
            click.echo(out)
        else:
            click.echo(page)
        return
    click.echo(f"{t.number} {t.name} · {cell.row_key} · {cell.header} ({cell.column}) · {academic_year}")
    click.echo(f"  value: {value}")
    click.echo(f"  defined by: template {doc['template_pack']}, column {cell.header!r}, source {cell.source}")
    click.echo(f"  computed by: {doc['sql']}" + (f" (lineage of run {run})" if run and kind == "aggregate" else ""))
    if kind == "aggregate":
        ok = "✓" if total is not None and abs(total - float(cell.value or 0)) < 1e-6 else "✗ DIFFERS"
        click.echo(f"  {count} contributing source rows; their amounts add up to {total:g} {ok}")
    else:
        click.echo(f"  copied from {count} source row(s) of the national row")
    for r in doc["rows"]:
        values = ", ".join(f"{k}={v}" for k, v in r["values"].items() if v is not None)
        amount = f" +{r['amount']:g}" if r["amount"] is not None else ""
        when = f"{r['extracted_at']:%Y-%m-%d %H:%M}" if r.get("extracted_at") else "?"
        click.echo(f"    {r.get('system')}.{r.get('table')} {r.get('key')} (batch {r.get('batch')}, {when}){amount}")
        click.echo(f"      {values}")
    if count > limit:
        click.echo(f"    … and {count - limit} more (--limit, or --format json --limit N)")
    if verify:
        v = doc["verify"]
        click.echo(f"  verify: {v['checked']} source rows re-read from the live systems: {v['unchanged']} unchanged, "
                   f"{len(v['changed'])} changed, {len(v['vanished'])} vanished since extraction")  # fmt: skip
        for r, c in checked.items():
            if c["status"] != "unchanged":
                s = sources[r]
                fields = f" ({', '.join(c['fields'])})" if c["fields"] else ""
                click.echo(f"    {c['status']}: {s['system']}.{s['table']} {s['key']}{fields}")


def _open(settings, snapshot: Path | None):
    """The package snapshot asked for, or the warehouse (its newest backup while a run writes it)."""
    return db.connect(snapshot, read_only=True) if snapshot else reading(settings)


def _trace_indicator(name: str, academic_year: str | None, limit: int, fmt: str, settings, source: Path | None):
    try:
        with _open(settings, source) as con:
            if academic_year is None:
                academic_year = latest_year(con, "core_indicator")
            doc = trace_indicator(con, academic_year, name, indicators.load_definitions(), limit)
            for i in doc["inputs"]:
                shown = source_rows(con, [r for r, _ in i["rows"][:limit]])
                i["rows"] = [
                    {"raw_id": r, "amount": a} | {k: v for k, v in shown.get(r, {}).items() if k != "values"}
                    for r, a in i["rows"][:limit]
                ]
    except (WarehouseError, TraceError) as e:
        fail(str(e))
    except duckdb.CatalogException:  # platform.core_indicator is made by the first run
        fail(NO_INDICATORS)
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=1, default=str))
        return
    click.echo(
        f"{doc['name']} · {academic_year}: {doc['value']}{doc['unit']} (standard {doc['standard']}: {doc['verdict']})"
    )
    click.echo(f"  = {doc['formula']}")
    for d in doc["derived"]:
        click.echo(f"  {d['id']} ({d['name']}) = {d['formula']}")
    for i in doc["inputs"]:
        check = ""
        if i["amounts_add_up_to"] is not None:
            ok = abs(i["amounts_add_up_to"] - float(i["value"])) <= max(1e-4, 1e-7 * abs(float(i["value"])))
            check = f"; {i['source_rows']} source rows add up to {i['amounts_add_up_to']:g} {'✓' if ok else '✗'}"
        click.echo(f"  {i['id']} ({i['label']}) = {i['value']:g}  from {i['source']}{check}")
        for r in i["rows"][: min(limit, 3)]:
            click.echo(
                f"      {r.get('system')}.{r.get('table')} {r.get('key')} (batch {r.get('batch')}) +{r['amount']:g}"
            )
    click.echo("  (statedata trace <table> <key> <column> explains any cell; --format json lists the rows)")
