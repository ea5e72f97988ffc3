"""statedata report: the year's data-analysis report (数据分析报告), drafted from the warehouse: the college's and one
per department (docx and html), with report_manifest.json and what changed since the last draft."""

from pathlib import Path

import click

from analysis.benchmarks import SAMPLE_MARK, BenchmarkError
from analysis.build import FORMATS, MANIFEST, build
from analysis.config import ConfigError
from analysis.content import ContentError, Setup, indicator_years
from pipelines.cli.common import checked_year, fail, home_option, load_rules, load_settings, make_folder, reading
from warehouse.db import WarehouseError


@click.command()
@click.option("--year", "academic_year", default=None, help="Academic year [default: the latest with core indicators].")
@click.option("--dept", default=None, help="Only this department's report, e.g. 人事处 [default: the college's and "
              "one per department].")  # fmt: skip
@click.option(
    "--format",
    "formats",
    type=click.Choice(FORMATS),
    multiple=True,
    help="docx (editable Word) and/or html; repeat the option for both [default: both]. No pdf: it would need a "
    "browser or LibreOffice (open the docx or html and print it).",
)
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder [default: $STATEDATA_HOME/out/reports/<year>].")  # fmt: skip
@home_option
def report(academic_year, dept, formats, out, home):
    """Draft the data-analysis report from the year's data: core indicators against their thresholds, trends, the
    largest changes and what drove them, peer benchmarks, failing rules; every number with its trace. A draft
    (草稿) while error rules fail or no sign-off exists."""
    settings = load_settings(home)
    if academic_year is not None:
        checked_year(academic_year)
    setup = Setup(
        rules=load_rules(settings),
        department=settings.college.department,
        school_type=settings.school_type,
        college_dir=settings.college_dir,
    )
    try:
        with reading(settings) as con:
            year = academic_year or next(reversed(indicator_years(con)), None)
            if year is None:
                fail("no core indicator has been computed yet: run `statedata run` first")
            folder = Path(out) if out else settings.out_dir / "reports" / year
            make_folder(folder, "the reports folder", "--out" if out else "STATEDATA_HOME or --home")
            built = build(con, year, setup, folder, tuple(dict.fromkeys(formats)) or FORMATS, dept)
    except (WarehouseError, ContentError, ConfigError, BenchmarkError) as e:
        fail(str(e))
    m = built.manifest
    why = [f"{len(m['blocking_rules'])} error rule(s) fail or need re-checking"] if m["blocking_rules"] else []
    why += [] if m["signed_off"] else ["no sign-off exists yet"]
    state = f"as a DRAFT ({'; '.join(why)})" if m["draft"] else "(signed off)"
    click.echo(f"Analysis report(s) for {year} written {state} to:\n  {built.folder}")
    for f in m["files"]:
        click.echo(f"    {f['file']}  (charts: {len(f['charts'])}, traces: {f['traces']})")
    click.echo(f"    {MANIFEST}  (warehouse snapshot {m['warehouse_snapshot']})")
    bench = m["benchmarks"]
    sample = f" — SAMPLE data ({SAMPLE_MARK}); the report says so" if bench["sample"] else ""
    click.echo(f"Benchmarks: {bench['file']}{sample}")
    _changes(built.changes)


def _changes(c: dict) -> None:
    if c.get("first"):
        click.echo("Changes: the year's first draft (no earlier report_manifest.json in the folder).")
        return
    items = len(c["figures"]) + len(c["newly_failing"]) + len(c["newly_passing"]) + len(c["count_changed"])
    if not items:
        click.echo(f"Changes since the last draft (snapshot {c['since']}): none.")
        return
    click.echo(f"Changes since the last draft (snapshot {c['since']}):")
    for f in c["figures"]:
        click.echo(f"  {f['name']}: {_shown(f['old'])} → {_shown(f['new'])}")
    for r in c["newly_failing"]:
        click.echo(f"  newly failing: {r['id']} ({r['owner']}), {r['failing']} rows")
    for r in c["newly_passing"]:
        click.echo(f"  now passing: {r['id']} ({r['owner']}), was {r['failing']} rows")
    for r in c["count_changed"]:
        click.echo(f"  still failing: {r['id']} ({r['owner']}), {r['old']} → {r['new']} rows")


def _shown(value) -> str:
    return "—" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")
