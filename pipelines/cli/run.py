"""statedata run: the whole pipeline for one academic year, in this process, with progress and a summary.

Before it runs, every input is fingerprinted (warehouse/inputs.py). When nothing changed since the year's last
completed run, nothing is recomputed: the rules that read the clock are evaluated again alone, and the summary
is that run's. Dagster is loaded only when there is something to run (pipelines/cli/nightly.py).
"""

import json
import sys
import time
from datetime import datetime
from pathlib import Path

import click
import duckdb

import portal
from model.mapping import MappingError
from model.settings import Settings, SettingsError
from model.years import academic_years, current_academic_year
from pipelines import nochange
from pipelines.cli.common import checked_year, dagster_home, fail, home_option, load_rules, load_settings, load_specs
from reporting.templates import TemplateError
from warehouse import inputs
from warehouse.backup import check_usable
from warehouse.db import WarehouseBusy, WarehouseError
from warehouse.runlock import RETRY_HINT, Busy, run_lock


def _truth_lines(summary: dict, settings: Settings) -> list[str]:
    """When the sources are the demo campus, compare with the generator's true counts."""
    manifest = settings.demo_dir / "manifest.json"
    if not manifest.exists() or not settings.uses_demo_sources(load_specs(settings)):
        return []
    truth = json.loads(manifest.read_text(encoding="utf-8")).get("truth", {}).get(summary["academic_year"])
    if not truth:
        return []
    pairs = [
        ("enrolled students", summary["row_counts"].get("platform.student"), truth["enrolled_students"]),
        ("full-time teachers", summary["row_counts"].get("platform.full_time_teacher"), truth["full_time_teachers"]),
    ]
    return [
        f"  {label:<20} {got!s:>8}   demo truth {want:>8}   {'✓' if got == want else '✗ differs'}"
        for label, got, want in pairs
    ]


@click.command()
@click.option("--year", "academic_year", default=None, help="Academic year, e.g. 2026-2027 [default: the current one].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout (progress stays on stderr).")
@home_option
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.option("--wait", is_flag=True, help="If another statedata process is using the folder, wait for it.")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Read every source table whole, also those extracted incrementally by their change column (never skipped).",
)
@click.option(
    "--force", is_flag=True, help="Run and compute every step anew, even when nothing changed since the last run."
)
def run(academic_year, as_json, home, quiet, wait, full_refresh, force):
    """Run the whole pipeline for one academic year: extract, load, transform, check, write the tables.
    When no source, mapping, setting or code changed since the year's last completed run, and its outputs are as
    it left them, nothing is recomputed: the rules that read the clock are evaluated again alone."""
    settings = load_settings(home)
    year = checked_year(academic_year or current_academic_year())
    if year not in academic_years():
        fail(f"{year} is not one of the academic years: {', '.join(academic_years())}", 2)
    specs = load_specs(settings)
    missing = []
    for spec in specs.values():  # every source's location, all at once, before anything runs
        try:
            settings.source_location(spec)
        except SettingsError as e:
            missing.append(str(e))
    if missing:
        fail("these sources cannot be read:\n  " + "\n  ".join(missing), 2)
    dagster_home(settings)
    try:
        with run_lock(settings.home, f"run {year}", wait=wait, hint=f"{RETRY_HINT}, or pass --wait"):
            # the warehouse is read whole before anything is computed (first, so that a damaged one is the error);
            # a night that may skip, its file as the last run left it, reads only the tables it uses (_skip)
            checked = not inputs.as_recorded(settings)
            if checked:
                check_usable(settings.warehouse, settings.backups_dir)
            if settings.uses_demo_sources(specs) and not (settings.demo_dir / "manifest.json").exists():
                fail(
                    f"the demo college's sources are not in {settings.demo_dir}: run `statedata demo` first, "
                    "or set each source's location (statedata doctor lists them)",
                    2,
                )
            t = time.perf_counter()
            current = inputs.inputs(settings, specs, year)
            summary, reasons = (None, []) if force or full_refresh else _skip(settings, specs, current)
            if reasons and not quiet:
                click.echo("statedata run: running, because " + "; ".join(reasons[:5])
                           + (f"; and {len(reasons) - 5} more" if len(reasons) > 5 else ""), err=True)  # fmt: skip
            if summary is None:
                if not checked:
                    check_usable(settings.warehouse, settings.backups_dir)
                if not quiet:
                    click.echo(f"statedata run {year}: warehouse {settings.warehouse}", err=True)
                from pipelines.cli import nightly

                try:
                    summary = nightly.execute(settings, year, quiet, full_refresh, t, recompute=force)
                except (MappingError, TemplateError) as e:
                    fail(f"cannot build the pipeline: {e}")
                summary["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
                if summary["success"]:
                    inputs.remember(settings, current, summary)
        if summary["success"] and portal.in_use(settings):  # the portal's explanations and signatures, on this run
            summary["review"] = portal.retest(settings)
    except (Busy, WarehouseError) as e:
        fail(str(e))
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        _print_summary(summary, settings)
    if not summary["success"]:
        sys.exit(1)


def _skip(settings: Settings, specs: dict, current: inputs.Inputs) -> tuple[dict | None, list[str]]:
    """nochange.skip, which may skip only when the warehouse file is as the last run left it (size and modification
    time). If a block it reads is damaged all the same, the error is the one a run gives, with the restore hint."""
    try:
        return nochange.skip(settings, specs, current)
    except WarehouseBusy:
        raise
    except (duckdb.Error, WarehouseError):
        check_usable(settings.warehouse, settings.backups_dir, always_read=True)
        raise


def _print_summary(s: dict, settings: Settings) -> None:
    if not s["success"]:
        # on stdout, cause first: a failed night's mail or log shows why without the progress lines
        click.secho(f"\nRun FAILED for {s['academic_year']} (run {s['run_id']}).", fg="red")
        for e in s["errors"]:
            click.secho(f"  {e['step']}: {e['error']}", fg="red")
        click.echo("The last good outputs are unchanged.")
        if s["unvalidated"]:
            click.echo(
                f"{s['academic_year']} is UNVALIDATED: {len(s['unvalidated'])} error rules' results no longer match "
                "the data the run rebuilt before it stopped; statedata package refuses the year until a run completes."
            )
        return
    draft = " as a DRAFT (error rules fail)" if s["output_folder"].endswith("_draft") else ""
    if s.get("skipped"):
        k = s["skipped"]
        click.echo(
            f"\nNothing changed since run {k['unchanged_since']} of {k['finished_at']}: no source, mapping, setting or "
            f"code, and its outputs are as it wrote them. Nothing was recomputed; the sources were confirmed "
            f"unchanged and {len(k['rules_rechecked'])} rules that read the clock were evaluated again "
            f"({', '.join(k['rules_rechecked']) or 'none'}). `statedata run --force` runs every step."
        )
    click.echo(
        f"\nNational tables and the review list for {s['academic_year']} "
        f"{'kept' if s.get('skipped') else 'written'}{draft} in:\n  {s['output_folder']}"
    )
    for f in s["files"]:
        click.echo(f"  {f['rows']:>8,}  {Path(f['path']).name}")
    if "checks" not in s:  # kept from a run the schedule or the UI started: its account is in the Dagster UI
        click.echo(f"\nThat run was started by Dagster: its checks, indicators and timings are in the Dagster UI "
                   f"(statedata dev), run {s['run_id']}.")  # fmt: skip
        return
    below = [i for i in s["indicators"] if i["result"] == "不合格"]
    click.echo(
        f"\nCore indicators: {len(s['indicators'])} computed, {sum(i['result'] == '合格' for i in s['indicators'])} "
        f"合格, {len(below)} 不合格 (details in 核心数据复核清单.xlsx)"
    )
    for i in below:
        sign = "≥" if i["compare"] == ">=" else "≤"
        click.echo(f"  {i['name']}: {i['value']:g}{i['unit']} (standard {sign} {i['threshold']:g})")
    a = s["accounting"]
    click.echo(
        f"\nSources: {a['rows_read']:,} rows read = {a['rows_loaded']:,} loaded + {a['rows_quarantined']:,} "
        f"quarantined (reasons in audit.quarantine); {a['files_rejected']} files set aside"
    )
    c = s["checks"]
    click.echo(
        f"\nChecks: {c['evaluated']} evaluated, {c['passed']} passed, {c['failed_error']} errors, "
        f"{c['failed_warn']} warnings"
        + (f"; {c['not_applicable']} not applicable to {s['academic_year']} (skipped)" if c["not_applicable"] else "")
    )
    rules = {r.id: r for r in load_rules(settings)}
    by_dept: dict[str, list] = {}
    for f in c["failures"]:
        failed = [rules[i] for i in f.get("rules") or [f["check"].replace("_", "-")] if i in rules]
        for r in failed:
            by_dept.setdefault(r.owner, []).append(r)
        if not failed:
            click.echo(f"  {f['severity']:<5} {f['check']} on {f['asset']}")
    if by_dept:
        click.echo("  Failing rules by department (statedata failures --dept <部门> lists the source rows to fix):")
        for dept, failed in sorted(by_dept.items(), key=lambda kv: -len(kv[1])):
            errors = sum(r.severity == "error" for r in failed)
            ids = ", ".join(r.id for r in sorted(failed, key=lambda r: r.id))
            click.echo(f"    {dept}: {len(failed)} ({errors} error{'s' if errors != 1 else ''}) {ids}")
    blocked = sum(r.severity == "error" for failed in by_dept.values() for r in failed)
    if blocked and s["output_folder"]:
        click.echo(f"  {blocked} error rules fail: the tables were written as a draft ({s['output_folder']}); "
                   "statedata package is refused until they pass or are waived in the review portal "
                   "(statedata portal)")  # fmt: skip
    lines = _truth_lines(s, settings)
    if lines:
        click.echo("\nAgainst the demo generator's true counts:")
        for line in lines:
            click.echo(line)
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in s["timings_s"]["by_stage"].items())
    r = s.get("review") or {}
    if r.get("voided") or r.get("explanations"):
        click.echo(f"\nReview portal, re-tested on this run: {len(r['voided'])} signature(s) voided, "
                   f"{len(r['explanations'])} explanation(s) changed")  # fmt: skip
        for line in r["voided"] + r["explanations"]:
            click.echo(f"  {line}")
    k = s.get("kept") or {}
    if k.get("assets") or k.get("checks") or k.get("files_copied"):
        click.echo(f"\nKept, their inputs unchanged since they were made: {k['assets']} of {k['of_assets']} assets, "
                   f"{k['checks']} of {s['checks']['evaluated']} check results, {k['files_copied']} of "
                   f"{len(s['files'])} files (statedata run --force computes everything anew)")  # fmt: skip
    click.echo(f"\nTook {s['timings_s']['total']:.1f}s{f' ({stages})' if stages else ''}. Warehouse: {s['warehouse']}")
