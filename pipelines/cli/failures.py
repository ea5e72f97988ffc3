"""statedata failures: what each department must fix at the source, as text, JSON, xlsx or html."""

import json
from pathlib import Path

import click

from departments.report import html_page, write_xlsx
from expectations.rules import checked_years, failures_report, latest_checked_year
from model.canonical import load_model
from model.mapping import pii_fields
from model.masking import mask
from pipelines.cli.common import (
    checked_year,
    fail,
    home_option,
    load_rules,
    load_settings,
    load_specs,
    make_folder,
    reading,
)
from warehouse.db import WarehouseError


@click.command()
@click.option("--dept", default=None, help="Owning department, e.g. 人事处 [default: every department].")
@click.option("--year", "academic_year", default=None, help="Academic year [default: the latest one checked].")
@click.option("--reveal", is_flag=True, help="Show names, ID numbers and phones unmasked.")
@click.option(
    "--limit",
    default=20,
    type=click.IntRange(min=0),
    show_default=True,
    help="Rows shown per group (all are in audit.rule_failure).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (same as --format json).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "xlsx", "html"]),
    default="text",
    show_default=True,
    help="xlsx and html write one report per department into --out.",
)
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder for xlsx/html reports [default: $STATEDATA_HOME/out/failures/<year>].")  # fmt: skip
@home_option
def failures(dept, academic_year, reveal, limit, as_json, fmt, out, home):
    """What each department must fix at the source: failing rules, their hints and the failing rows."""
    settings = load_settings(home)
    rules = load_rules(settings)
    owners = sorted({r.owner for r in rules})
    if dept and dept not in owners:
        fail(f"no rule is owned by {dept!r}; departments: {', '.join(owners)}", 2)
    pii = pii_fields(load_specs(settings), load_model())
    if academic_year is not None:
        checked_year(academic_year)
    try:
        with reading(settings) as con:
            year = academic_year or latest_checked_year(con)
            if year is not None and year not in checked_years(con):
                fail(f"the rules have not been evaluated for {year} yet: run `statedata run --year {year}` first")
            if year is None:
                fail("no rule has been evaluated yet: run `statedata run` first")
            report = failures_report(con, rules, year, dept)
    except WarehouseError as e:
        fail(str(e))

    def shown(column, value):
        return value if reveal else mask(value, pii.get(column))

    if fmt in ("xlsx", "html"):
        folder = make_folder(Path(out) if out else settings.out_dir / "failures" / year, "the reports folder",
                             "--out" if out else "STATEDATA_HOME or --home")  # fmt: skip
        by_dept = {d: [f for f in report if f["rule"].owner == d] for d in ([dept] if dept else owners)}
        for d, rows in by_dept.items():
            if not rows and not dept:
                continue
            title = f"{d} {year} 未通过的校验规则"
            path = folder / f"{d}_{year}.{fmt}"
            if fmt == "xlsx":
                write_xlsx(rows, path, title, pii, reveal)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(html_page(rows, title, pii, reveal), encoding="utf-8")
            click.echo(f"{path}  ({len(rows)} failing rules)")
        return
    if as_json or fmt == "json":
        doc = [
            {
                "rule": f["rule"].id,
                "owner": f["rule"].owner,
                "severity": f["rule"].severity,
                "dimension": f["rule"].dimension,
                "message": f["rule"].message,
                "hint": f["rule"].hint,
                "failing": f["failing"],
                "checked": f["checked"],
                "tolerance": f["rule"].tolerance,
                "run_id": f["run_id"],
                "groups": [
                    {**{k: g[k] for k in ("system", "table", "column")},
                     "rows": [{"key": k, "value": shown(g["column"], v)} for k, v in g["rows"]]}
                    for g in f["groups"]
                ],
            }
            for f in report
        ]  # fmt: skip
        click.echo(
            json.dumps({"academic_year": year, "department": dept, "failures": doc}, ensure_ascii=False, indent=1)
        )
        return
    who = dept or "all departments"
    if not report:
        click.echo(f"No failing rules for {who} in {year}.")
        return
    click.echo(f"Failing rules for {who}, {year} (latest run {report[0]['run_id']}):")
    for f in report:
        r = f["rule"]
        click.echo(f"\n{r.id}  {r.severity}  {r.dimension}  {r.owner}  {r.message}")
        click.echo(f"  {f['failing']} of {f['checked']} rows (tolerance {r.tolerance}). How to fix: {r.hint}")
        for g in f["groups"]:
            click.echo(f"  {g['system'] or '-'}.{g['table'] or '-'}  {g['column']}  ({len(g['rows'])} rows)")
            for key, value in g["rows"][:limit]:
                click.echo(f"    {key or '-'}  {shown(g['column'], value)}")
            if len(g["rows"]) > limit:
                click.echo(f"    … and {len(g['rows']) - limit} more (audit.rule_failure)")
