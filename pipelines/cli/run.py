"""statedata run: the whole pipeline for one academic year, in this process, with progress and a summary."""

import json
import sys
import time
from pathlib import Path

import click
import dagster as dg
import duckdb

import portal
from expectations.rules import stale_results
from model.mapping import MappingError
from model.settings import Settings, SettingsError
from model.years import current_academic_year
from pipelines.cli.common import checked_year, dagster_home, fail, home_option, load_rules, load_settings, load_specs
from pipelines.definitions import academic_year_partitions, build_definitions
from pipelines.progress import step_error
from reporting.export import exported_files
from reporting.indicators import indicator_results
from reporting.templates import TemplateError
from warehouse import db
from warehouse.backup import check_usable
from warehouse.db import WarehouseError
from warehouse.runlock import RETRY_HINT, Busy, run_lock

CLI_TAG = "statedata/cli"


def _summary(result, year: str, elapsed: float, settings: Settings) -> dict:
    steps, rows, checks, errors, retries = {}, {}, [], [], {}
    accounting = dict.fromkeys(("rows_read", "rows_loaded", "rows_quarantined", "files_rejected"), 0)
    for e in result.all_events:
        if e.event_type_value == "STEP_SUCCESS":
            steps[e.step_key] = round(e.event_specific_data.duration_ms / 1000, 3)
        elif e.event_type_value == "ASSET_MATERIALIZATION":
            m = e.event_specific_data.materialization
            if "dagster/row_count" in m.metadata:
                rows[".".join(m.asset_key.path)] = m.metadata["dagster/row_count"].value
            if "rows_read" in m.metadata:  # a raw asset: this run's load accounting
                md = {k: v.value for k, v in m.metadata.items()}
                accounting["rows_read"] += md["rows_read"]
                accounting["rows_loaded"] += md["rows_inserted"] + md["rows_unchanged"]
                accounting["rows_quarantined"] += md["rows_quarantined"]
                accounting["files_rejected"] += md["files_rejected"]
        elif e.event_type_value == "STEP_UP_FOR_RETRY":
            retries[e.step_key] = retries.get(e.step_key, 0) + 1
        elif e.event_type_value == "STEP_FAILURE":
            errors.append({"step": e.step_key, "error": step_error(e.event_specific_data)})
        elif e.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = e.event_specific_data
            failing = ev.metadata.get("failing_rules")  # a check that stands for several rules names them
            checks.append(
                {
                    "asset": ".".join(ev.asset_key.path),
                    "check": ev.check_name,
                    "passed": ev.passed,
                    "severity": ev.severity.value if ev.severity else None,
                }
                | ({"rules": failing.value} if failing is not None else {})
            )
    files, indicators, unvalidated = [], [], []
    if result.success:
        with db.connect(settings.warehouse, read_only=True) as con:
            files = exported_files(con, result.run_id)
            indicators = indicator_results(con, year)
    else:  # what the failed run rebuilt before it stopped is no longer what the rules saw
        try:
            with db.connect(settings.warehouse, read_only=True) as con:
                unvalidated = [r.id for r in stale_results(con, load_rules(settings), year)]
        except (ValueError, WarehouseError, duckdb.Error):  # never checked, or no warehouse yet
            unvalidated = ["(the year has never been checked)"]
    stage = {}
    for k, v in steps.items():
        s = "checks" if ("key_unique" in k or "accounting" in k) else k.split("__")[0].split("_")[0]
        stage[s] = round(stage.get(s, 0) + v, 3)
    failed = [c for c in checks if not c["passed"]]
    return {
        "academic_year": year,
        "success": result.success,
        "errors": errors,
        "retries": retries,
        "run_id": result.run_id,
        "warehouse": str(settings.warehouse),
        "output_folder": str(Path(files[0]["path"]).parent) if files else None,
        "files": files,
        "row_counts": rows,
        "accounting": accounting,
        "indicators": indicators,
        # error rules whose results are not about the data now in the tables: the year is unvalidated
        "unvalidated": unvalidated,
        "checks": {
            "evaluated": len(checks),
            # the catalogue's rules outside their years: no result, so Dagster shows them skipped
            "not_applicable": sum(not r.applies(year) for r in load_rules(settings)),
            "passed": len(checks) - len(failed),
            "failed_error": sum(c["severity"] == "ERROR" for c in failed),
            "failed_warn": sum(c["severity"] == "WARN" for c in failed),
            "failures": failed,
        },
        "timings_s": {"total": round(elapsed, 3), "by_stage": stage, "by_step": steps},
    }


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
    help="Read every source table whole, also those extracted incrementally by their change column.",
)
def run(academic_year, as_json, home, quiet, wait, full_refresh):
    """Run the whole pipeline for one academic year: extract, load, transform, check, write the tables."""
    settings = load_settings(home)
    year = checked_year(academic_year or current_academic_year())
    if year not in academic_year_partitions.get_partition_keys():
        fail(f"{year} is not one of the academic years: {', '.join(academic_year_partitions.get_partition_keys())}", 2)
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
        defs = build_definitions(settings)
    except (MappingError, TemplateError) as e:
        fail(f"cannot build the pipeline: {e}")
    try:
        with run_lock(settings.home, f"run {year}", wait=wait, hint=f"{RETRY_HINT}, or pass --wait"):
            check_usable(settings.warehouse, settings.backups_dir)
            if settings.uses_demo_sources(specs) and not (settings.demo_dir / "manifest.json").exists():
                fail(
                    f"the demo college's sources are not in {settings.demo_dir}: run `statedata demo` first, "
                    "or set each source's location (statedata doctor lists them)",
                    2,
                )
            if not quiet:
                click.echo(f"statedata run {year}: warehouse {settings.warehouse}", err=True)
            t = time.perf_counter()
            with dg.DagsterInstance.get() as instance:
                _close_orphaned_runs(instance)
                result = defs.resolve_job_def("nightly_job").execute_in_process(
                    partition_key=year,
                    instance=instance,
                    raise_on_error=False,
                    tags={CLI_TAG: "run"},
                    run_config={
                        "loggers": {"progress": {"config": {"quiet": quiet}}},
                        "resources": {"statedata": {"config": {"full_refresh": full_refresh}}},
                    },
                )
            summary = _summary(result, year, time.perf_counter() - t, settings)
        if result.success and portal.in_use(settings):  # the portal's explanations and signatures, on this run
            summary["review"] = portal.retest(settings)
    except (Busy, WarehouseError) as e:
        fail(str(e))
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        _print_summary(summary, settings)
    if not result.success:
        sys.exit(1)


def _close_orphaned_runs(instance) -> None:
    """Runs started by `statedata run` that are still marked running belong to a process that died (we hold
    the folder's lock): mark them failed, freeing anything they held, so the history tells the truth."""
    running = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING], tags={CLI_TAG: "run"}
        )
    )
    for run in running:
        instance.report_run_failed(
            run,
            message="the statedata process running it ended without finishing "
            "(killed or crashed); a later run found it",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


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
    click.echo(
        f"\nNational tables and the review list for {s['academic_year']} written{draft} to:\n  {s['output_folder']}"
    )
    for f in s["files"]:
        click.echo(f"  {f['rows']:>8,}  {Path(f['path']).name}")
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
    click.echo(f"\nTook {s['timings_s']['total']:.1f}s ({stages}). Warehouse: {s['warehouse']}")
