"""statedata score: the rules against the demo's injected defects (recall and false positives)."""

import json
import sys
from pathlib import Path

import click

from expectations.rules import latest_checked_year
from expectations.score import score as score_rules
from pipelines.cli.common import fail, home_option, load_rules, load_settings, reading
from warehouse.db import WarehouseError


@click.command()
@click.option("--demo", "demo_dir", type=click.Path(file_okay=False), default=None,
              help="Demo campus folder with manifest.json [default: $STATEDATA_HOME/demo].")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@home_option
def score(demo_dir, as_json, home):
    """Score the rules against the demo's injected defects: recall and false positives.

    Run `statedata run` on the demo first. Exits 1 when a defect is missed, or when an error rule
    fires on a --clean demo."""
    settings = load_settings(home)
    path = Path(demo_dir or settings.demo_dir) / "manifest.json"
    if not path.exists():
        fail(f"{path}: no demo manifest; generate the demo with `statedata demo` and run it first")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    try:
        with reading(settings) as con:
            if latest_checked_year(con) is None:
                fail("no rule has been evaluated yet: run `statedata run` first")
            result = score_rules(con, manifest, load_rules(settings))
    except WarehouseError as e:
        fail(str(e))
    bad = bool(result["missed"]) or (result["clean"] and bool(result["error_rules_fired"]))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1, default=str))
        sys.exit(1 if bad else 0)
    if result["clean"]:
        click.echo("Clean demo: no defect injected.")
    else:
        click.echo(f"Recall: {result['caught']} of {result['injected']} injected defects caught "
                   f"({100 * result['recall']:.1f}%), {len(result['kinds'])} kinds")  # fmt: skip
        for k in result["kinds"]:
            mark = "✓" if k["caught"] == k["injected"] else "✗"
            click.echo(f"  {mark} {k['kind']:<40} {k['caught']}/{k['injected']}  {', '.join(k['rules']) or '-'}")
        for d in result["missed"]:
            click.echo(f"  missed: {d['kind']} {d['system']}.{d['table']} {d['key']} {d['column']}")
    click.echo(f"False positives: {result['false_positive_rows']} failing rows name a source row with no defect")
    for fp in result["false_positives"][:20]:
        click.echo(f"  {fp['rule']} ({fp['severity']}) {fp['system']}.{fp['table']} {fp['key']} {fp['column']}")
    click.echo(f"Error rules failing: {', '.join(result['error_rules_fired']) or 'none'}")
    click.echo(f"Warning rules failing: {', '.join(result['warning_rules_fired']) or 'none'}")
    if result["aggregate_findings"]:
        click.echo("Findings that name no source row (totals, indicators): "
                   + ", ".join(f"{r} ×{n}" for r, n in result["aggregate_findings"].items()))  # fmt: skip
    sys.exit(1 if bad else 0)
