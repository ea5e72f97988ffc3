"""The `statedata` command: the user-facing entry point.

statedata demo            generate the demo college's source systems (SQLite + Excel/CSV drops)
statedata run             run the whole pipeline for an academic year, with progress and a summary
statedata dev             open the Dagster UI on this project (asset graph, runs, checks)
"""

import json
import os
import signal
import sys
import time
from pathlib import Path

import click
import duckdb

from connectors.mapping import MappingError, load_mappings, pii_fields
from pipelines.runlock import Busy, run_lock
from pipelines.settings import backup_keep, current_academic_year, get_settings, uses_demo_sources
from warehouse import db
from warehouse.backup import backup as backup_warehouse
from warehouse.backup import backups, check_usable
from warehouse.backup import restore as restore_warehouse
from warehouse.db import WarehouseError
from warehouse.templates import TemplateError, parse_year

DAGSTER_YAML = """\
# Written by statedata: local run history for `statedata run` and `statedata dev`.
# One run at a time: DuckDB admits one writer per file, so runs the schedule or the UI submit wait in
# the queue (the nightly schedule submits two in the collection season). No pool limits: a pool slot
# that a killed run keeps is freed only by a Dagster daemon, and would block every later CLI run.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
"""
CLI_TAG = "statedata/cli"


def _fail(msg: str, code: int = 1):
    click.secho(f"statedata: {msg}", fg="red", err=True)
    sys.exit(code)


def _use_home(home: str | None) -> None:
    if home:
        os.environ["STATEDATA_HOME"] = str(Path(home).resolve())


def _dagster_home() -> Path:
    """A persistent DAGSTER_HOME under the working folder, so runs show up in `statedata dev`."""
    path = Path(os.environ.get("DAGSTER_HOME") or get_settings().dagster_home).resolve()
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    # written when missing, and replaced when an older statedata wrote it (a hand-edited one is kept)
    if not config.exists() or (
        config.read_text(encoding="utf-8").startswith("# Written by statedata")
        and config.read_text(encoding="utf-8") != DAGSTER_YAML
    ):
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(path)
    return path


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="statedata")
def main():
    """statedata: a college's national status-data tables (人才培养工作状态数据), every night, from its own systems.

    \b
    First time? Try the demo college:
      statedata demo          # writes demo source systems under ./data/demo
      statedata run           # runs the pipeline; prints the output folder and row counts
      statedata dev           # browse assets, runs and checks in the Dagster UI
    \b
    Everything lives under STATEDATA_HOME (default ./data). Real sources are configured by the
    mapping files (STATEDATA_MAPPINGS) and one environment variable per source, e.g.
    STATEDATA_HR_URL=postgresql://user@host/hr; see README.md and docs/mapping.md.
    """


@main.command()
@click.option(
    "--scale",
    type=click.Choice(["small", "default", "large"]),
    default="default",
    show_default=True,
    help="small ≈ 2k students (tests), default ≈ 8k, large ≈ 30k students and 1.5M library items.",
)
@click.option("--clean", is_flag=True, help="Inject no defects (by default a documented set is injected).")
@click.option("--year", type=int, default=None, help="Start year of the current academic year [default: today's].")
@click.option("--seed", type=int, default=20260901, show_default=True)
@click.option("--school-code", default="4141099999", show_default=True, help="学校标识码 of the demo college.")
@click.option("--school-name", default="示例职业技术学院", show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Folder [default: $STATEDATA_HOME/demo].")
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
@click.option("--if-missing", is_flag=True, help="Do nothing if a demo campus already exists there.")
def demo(scale, clean, year, seed, school_code, school_name, out, home, if_missing):
    """Generate the demo college's source systems (deterministic for the same options)."""
    from demo_campus.generator import GeneratorConfig, generate

    _use_home(home)
    folder = Path(out) if out else get_settings().demo_dir
    if if_missing and (folder / "manifest.json").exists():
        click.echo(f"Demo campus already in {folder} (delete it or drop --if-missing to regenerate).")
        return
    year = year or int(current_academic_year()[:4])
    click.echo(f"Generating the demo campus ({scale}, academic year {year}-{year + 1}) into {folder} …")
    t = time.perf_counter()
    summary = generate(
        GeneratorConfig(
            out_dir=folder,
            scale=scale,
            year=year,
            seed=seed,
            clean=clean,
            school_code=school_code,
            school_name=school_name,
        )
    )
    click.echo(
        f"Done in {time.perf_counter() - t:.1f}s: {sum(summary['row_counts'].values()):,} source rows, "
        f"{len(summary['defects'])} injected defects ({len({d['kind'] for d in summary['defects']})} kinds)."
    )
    truth = summary["truth"][f"{year}-{year + 1}"]
    click.echo(
        f"True counts on {truth['stock_date']}: {truth['enrolled_students']:,} enrolled students, "
        f"{truth['full_time_teachers']:,} full-time teachers (see {folder / 'manifest.json'})."
    )


def _summary(result, year: str, elapsed: float) -> dict:
    from pipelines.progress import step_error  # imports dagster: only once a run has happened

    settings = get_settings()
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
            checks.append(
                {
                    "asset": ".".join(ev.asset_key.path),
                    "check": ev.check_name,
                    "passed": ev.passed,
                    "severity": ev.severity.value if ev.severity else None,
                }
            )
    files, indicators = [], []
    if result.success:
        with db.connect(settings.warehouse, read_only=True) as con:
            files = [
                dict(zip(("table", "path", "rows", "sha256"), r))
                for r in con.execute(
                    "select table_id, path, row_count, sha256 from audit.export_log where run_id = ? order by rowid",
                    [result.run_id],
                ).fetchall()
            ]
            indicators = [
                dict(zip(("name", "value", "unit", "compare", "threshold", "result"), r))
                for r in con.execute(
                    "select name, value, unit, compare, pass_threshold, pass_result from platform.core_indicator "
                    "where academic_year = ? order by seq",
                    [year],
                ).fetchall()
            ]
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
        "checks": {
            "evaluated": len(checks),
            "passed": len(checks) - len(failed),
            "failed_error": sum(c["severity"] == "ERROR" for c in failed),
            "failed_warn": sum(c["severity"] == "WARN" for c in failed),
            "failures": failed,
        },
        "timings_s": {"total": round(elapsed, 3), "by_stage": stage, "by_step": steps},
    }


def _truth_lines(summary: dict) -> list[str]:
    """When the sources are the demo campus, compare with the generator's true counts."""
    settings = get_settings()
    manifest = settings.demo_dir / "manifest.json"
    if not manifest.exists() or not uses_demo_sources(load_mappings(settings.mappings_dir)):
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


@main.command()
@click.option("--year", "academic_year", default=None, help="Academic year, e.g. 2026-2027 [default: the current one].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout (progress stays on stderr).")
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.option("--wait", is_flag=True, help="If another statedata process is using the folder, wait for it.")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Read every source table whole, also those extracted incrementally by their change column.",
)
def run(academic_year, as_json, home, quiet, wait, full_refresh):
    """Run the whole pipeline for one academic year: extract, load, transform, check, write the tables."""
    _use_home(home)
    year = academic_year or current_academic_year()
    try:
        parse_year(year)
    except ValueError as e:
        _fail(str(e), 2)
    _dagster_home()
    import dagster as dg

    try:
        from pipelines.definitions import academic_year_partitions, defs
    except (MappingError, TemplateError) as e:
        _fail(f"cannot build the pipeline: {e}")

    if year not in academic_year_partitions.get_partition_keys():
        _fail(f"{year} is not one of the academic years: {', '.join(academic_year_partitions.get_partition_keys())}", 2)
    settings = get_settings()
    try:
        with run_lock(settings.home, f"run {year}", wait=wait):
            check_usable(settings.warehouse, settings.backups_dir)
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
            summary = _summary(result, year, time.perf_counter() - t)
    except (Busy, WarehouseError) as e:
        _fail(str(e))
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        _print_summary(summary)
    if not result.success:
        sys.exit(1)


def _close_orphaned_runs(instance) -> None:
    """Runs started by `statedata run` that are still marked running belong to a process that died (we hold
    the folder's lock): mark them failed, freeing anything they held, so the history tells the truth."""
    import dagster as dg

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


def _print_summary(s: dict) -> None:
    if not s["success"]:
        click.secho(f"\nRun FAILED for {s['academic_year']} (run {s['run_id']}).", fg="red", err=True)
        for e in s["errors"]:
            click.secho(f"  {e['step']}: {e['error']}", fg="red", err=True)
        click.secho("The last good outputs are unchanged.", err=True)
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
    )
    from expectations.rules import load_catalogue

    rules = {r.check_name: r for r in load_catalogue()}
    by_dept: dict[str, list] = {}
    for f in c["failures"]:
        r = rules.get(f["check"])
        if r:
            by_dept.setdefault(r.owner, []).append(r)
        else:
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
                   "statedata package is refused until they pass")  # fmt: skip
    lines = _truth_lines(s)
    if lines:
        click.echo("\nAgainst the demo generator's true counts:")
        for line in lines:
            click.echo(line)
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in s["timings_s"]["by_stage"].items())
    click.echo(f"\nTook {s['timings_s']['total']:.1f}s ({stages}). Warehouse: {s['warehouse']}")


@main.command()
@click.option("--keep", type=int, default=None, help="Backups to keep [default: STATEDATA_BACKUP_KEEP or 7].")
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
def backup(keep, home):
    """Copy the warehouse to STATEDATA_HOME/backups (the nightly job does this after every run)."""
    _use_home(home)
    settings = get_settings()
    try:
        with run_lock(settings.home, "backup"):
            path = backup_warehouse(
                settings.warehouse, settings.backups_dir, keep=keep if keep is not None else backup_keep()
            )
    except (Busy, WarehouseError) as e:
        _fail(str(e))
    click.echo(
        f"Backed up to {path} ({path.stat().st_size / 2**20:,.1f} MiB); "
        f"{len(backups(settings.backups_dir))} backups kept in {settings.backups_dir}."
    )


@main.command()
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
def restore(home):
    """Put the newest readable backup in place of the warehouse (a damaged file is kept aside)."""
    _use_home(home)
    settings = get_settings()
    try:
        with run_lock(settings.home, "restore"):
            used = restore_warehouse(settings.warehouse, settings.backups_dir)
    except (Busy, WarehouseError) as e:
        _fail(str(e))
    click.echo(f"Restored {settings.warehouse} from {used}.")


def _previous_year(year: str) -> str:
    start = parse_year(year)
    return f"{start - 1}-{start}"


@main.command()
@click.option("--year", "academic_year", default=None, help="Academic year [default: the last completed one].")
@click.option(
    "--out", type=click.Path(file_okay=False), default=None, help="Folder [default: $STATEDATA_HOME/out/packages]."
)
@click.option(
    "--draft",
    is_flag=True,
    help="Build it even while error rules fail, as <code>_<year>_draft, marked as a draft (for reviewers).",
)
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
def package(academic_year, out, draft, home):
    """Write the submission package: every national table, the review list and a manifest, plus a zip.

    It is refused while an error rule of the catalogue fails for the year (see `statedata failures`);
    --draft builds a marked draft beside the last good package instead."""
    from expectations.rules import blocking_rules, load_catalogue
    from warehouse import db
    from warehouse.package import PackageError, build_package
    from warehouse.snapshot import snapshot_path, write_snapshot
    from warehouse.templates import pack_for_year

    _use_home(home)
    settings = get_settings()
    year = academic_year or _previous_year(current_academic_year())
    try:
        parse_year(year)
        pack = pack_for_year(year)
        with run_lock(settings.home, f"package {year}"), db.connect(settings.warehouse) as con:
            db.init(con)
            blocking = blocking_rules(con, load_catalogue(), year)
            if blocking and not draft:
                lines = "\n".join(f"  {r.id} ({r.owner}): {r.message} — {n} rows" for r, n in blocking)
                raise PackageError(
                    f"the {year} package is refused: {len(blocking)} error rule(s) fail\n{lines}\n"
                    "Fix them at the source (statedata failures --dept <部门>) and run again; the last good "
                    "package is unchanged. --draft builds a marked draft for reviewers."
                )
            result = build_package(
                con,
                pack,
                year,
                Path(out) if out else settings.out_dir / "packages",
                blocking=[r.id for r, _ in blocking] if draft else None,
            )
            snap = snapshot_path(settings.home, result.folder.name, result.manifest["warehouse_snapshot"])
            write_snapshot(con, snap, year)
    except (ValueError, TemplateError, Busy, WarehouseError, PackageError) as e:
        _fail(str(e))
    m = result.manifest
    if m.get("draft"):
        click.secho(f"DRAFT: error rules fail ({', '.join(m['blocking_rules'])}); not for submission.", fg="yellow")
    click.echo(f"Submission package for {m['school_name']} ({m['school_code']}), {year}:")
    for f in m["files"]:
        click.echo(f"  {f['rows']:>8,}  {f['file']}")
    click.echo(
        f"Template pack {m['template_pack']['pack']} {m['template_pack']['version']}, code lists "
        f"{m['code_lists_version']}, warehouse snapshot {m['warehouse_snapshot']}.\n"
        f"Folder: {result.folder}\nZip:    {result.zip_path}\n"
        f"Snapshot for tracing it later: {snap} ({snap.stat().st_size / 2**20:.1f} MiB)"
    )


@main.command()
@click.option("--dept", default=None, help="Owning department, e.g. 人事处 [default: every department].")
@click.option("--year", "academic_year", default=None, help="Academic year [default: the latest one checked].")
@click.option("--reveal", is_flag=True, help="Show names, ID numbers and phones unmasked.")
@click.option("--limit", default=20, show_default=True, help="Rows shown per group (all are in audit.rule_failure).")
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
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
def failures(dept, academic_year, reveal, limit, as_json, fmt, out, home):
    """What each department must fix at the source: failing rules, their hints and the failing rows."""
    from expectations.masking import mask
    from expectations.report import html_page, write_xlsx
    from expectations.rules import failures_report, load_catalogue
    from warehouse import db

    _use_home(home)
    settings = get_settings()
    rules = load_catalogue()
    owners = sorted({r.owner for r in rules})
    if dept and dept not in owners:
        _fail(f"no rule is owned by {dept!r}; departments: {', '.join(owners)}", 2)
    pii = pii_fields(load_mappings(settings.mappings_dir))
    try:
        with db.connect(settings.warehouse, read_only=True) as con:
            latest = con.execute("select academic_year from audit.rule_result order by checked_at desc limit 1")
            years = [r[0] for r in latest.fetchall()]
            year = academic_year or (years[0] if years else None)
            if year is None:
                _fail("no rule has been evaluated yet: run `statedata run` first")
            report = failures_report(con, rules, year, dept)
    except WarehouseError as e:
        _fail(str(e))

    def shown(column, value):
        return value if reveal else mask(value, pii.get(column))

    if fmt in ("xlsx", "html"):
        folder = Path(out) if out else settings.out_dir / "failures" / year
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


@main.command()
@click.argument("table", required=False)
@click.argument("row_key", required=False)
@click.argument("column", required=False)
@click.option("--indicator", default=None, help="A core indicator instead of a cell, e.g. 生师比.")
@click.option("--verify", is_flag=True, help="Re-read every source row from the live systems: changed or vanished?")
@click.option(
    "--snapshot", default=None, help="Trace a packaged submission: its snapshot id, package folder or zip, or file."
)
@click.option("--year", "academic_year", default=None, help="Academic year [default: the latest one held].")
@click.option("--limit", default=20, show_default=True, help="Source rows shown (all are counted).")
@click.option("--reveal", is_flag=True, help="Show names, ID numbers and phones unmasked.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File for --format html [default: stdout].")
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
def trace(table, row_key, column, indicator, verify, snapshot, academic_year, limit, reveal, fmt, out, home):
    """Explain one number: TABLE (A1 or school_basic), ROW_KEY (its key values joined by |, e.g. 4141099999
    or 510201| for 专业代码 + 方向) and COLUMN (field or Chinese header), down to the source rows; or
    --indicator 生师比: its formula, inputs, and the source rows of each input."""
    from expectations.masking import mask
    from pipelines.settings import source_location
    from warehouse import db
    from warehouse.templates import pack_for_year
    from warehouse.trace import TraceError, contributors, find_cell, source_rows
    from warehouse.trace import verify as verify_rows

    _use_home(home)
    if indicator is None and not (table and row_key and column):
        _fail("give TABLE ROW_KEY COLUMN (e.g. A1 4141099999 全日制在校生数), or --indicator 生师比", 2)
    settings = get_settings()
    source = settings.warehouse
    if snapshot:
        from warehouse.snapshot import find_snapshot

        try:
            source = find_snapshot(settings.home, snapshot)
        except FileNotFoundError as e:
            _fail(str(e))
    if indicator is not None:
        if fmt == "html":
            _fail("--format html explains a cell; for an indicator use text or json", 2)
        _trace_indicator(indicator, academic_year, limit, fmt, source)
        return
    specs = load_mappings(settings.mappings_dir)
    pii = pii_fields(specs)
    try:
        with db.connect(source, read_only=True) as con:
            if academic_year is None:
                years = con.execute(
                    "select max(academic_year) from platform.school_basic"
                ).fetchall()  # every run builds A1
                academic_year = years[0][0]
                if academic_year is None:
                    _fail("the warehouse holds no national table yet: run `statedata run` first")
            pack = pack_for_year(academic_year)
            cell = find_cell(con, pack, academic_year, table, row_key, column)
            kind, count, total, rows = contributors(con, cell, academic_year, None if verify else limit)
            sources = source_rows(con, [r for r, _ in rows])
            checked = {}
            if verify:
                checked = verify_rows(con, sources, specs, lambda spec: source_location(spec, settings))
            run = con.execute(
                "select any_value(run_id) from lineage.cell where table_name = ? and academic_year = ?",
                [cell.template.source_table, academic_year],
            ).fetchall()[0][0]
    except (WarehouseError, TraceError) as e:
        _fail(str(e))
    t = cell.template
    doc = {
        "academic_year": academic_year,
        "table": {"number": t.number, "name": t.name, "platform_table": t.source_table, "key": list(t.key)},
        "row_key": cell.row_key,
        "column": {"field": cell.column, "header": cell.header, "source": cell.source},
        "value": cell.value,
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
        from warehouse.trace import html_page

        page = html_page(doc)
        if out:
            Path(out).write_text(page, encoding="utf-8")
            click.echo(out)
        else:
            click.echo(page)
        return
    click.echo(f"{t.number} {t.name} · {cell.row_key} · {cell.header} ({cell.column}) · {academic_year}")
    click.echo(f"  value: {cell.value}")
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


def _trace_indicator(name: str, academic_year: str | None, limit: int, fmt: str, source: Path) -> None:
    from warehouse import db, indicators
    from warehouse.trace import TraceError, source_rows, trace_indicator

    try:
        with db.connect(source, read_only=True) as con:
            if academic_year is None:
                academic_year = con.execute("select max(academic_year) from platform.core_indicator").fetchall()[0][0]
            doc = trace_indicator(con, academic_year, name, indicators.load_definitions(), limit)
            for i in doc["inputs"]:
                shown = source_rows(con, [r for r, _ in i["rows"][:limit]])
                i["rows"] = [
                    {"raw_id": r, "amount": a} | {k: v for k, v in shown.get(r, {}).items() if k != "values"}
                    for r, a in i["rows"][:limit]
                ]
    except (WarehouseError, TraceError) as e:
        _fail(str(e))
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


@main.command()
@click.option("--demo", "demo_dir", type=click.Path(file_okay=False), default=None,
              help="Demo campus folder with manifest.json [default: $STATEDATA_HOME/demo].")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
def score(demo_dir, as_json, home):
    """Score the rules against the demo's injected defects: recall and false positives.

    Run `statedata run` on the demo first. Exits 1 when a defect is missed, or when an error rule
    fires on a --clean demo."""
    from expectations.rules import load_catalogue
    from expectations.score import score as score_rules
    from warehouse import db

    _use_home(home)
    settings = get_settings()
    path = Path(demo_dir or settings.demo_dir) / "manifest.json"
    if not path.exists():
        _fail(f"{path}: no demo manifest; generate the demo with `statedata demo` and run it first")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    try:
        with db.connect(settings.warehouse, read_only=True) as con:
            if not con.execute("select count(*) from audit.rule_result").fetchall()[0][0]:
                _fail("no rule has been evaluated yet: run `statedata run` first")
            result = score_rules(con, manifest, load_catalogue())
    except WarehouseError as e:
        _fail(str(e))
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


@main.command()
@click.option("--year", "academic_year", default=None, help="Academic year [default: the current one].")
@click.option(
    "--out", type=click.Path(file_okay=False), default=None, help="Folder [default: $STATEDATA_HOME/out/forms/<year>]."
)
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
def forms(academic_year, out, home):
    """Write the blank department forms (tables no campus system holds), one folder per department."""
    from connectors.forms import form_department, form_file_name, write_form
    from connectors.mapping import load_mapping

    _use_home(home)
    settings = get_settings()
    year = academic_year or current_academic_year()
    try:
        parse_year(year)
        spec = load_mapping(settings.mappings_dir / "forms.yaml")
    except (ValueError, OSError) as e:
        _fail(str(e))
    folder = Path(out) if out else settings.out_dir / "forms" / year
    school = _school_name(settings)
    for e in spec.entities.values():
        dept = form_department(spec, e)
        path = write_form(folder / dept / form_file_name(e, year), spec, e, year, school)
        click.echo(f"  {dept}: {path.relative_to(folder)}")
    click.echo(
        f"Blank forms for {year} written to {folder}.\nFilled forms go into the forms drop folder "
        f"(STATEDATA_FORMS_DIR); the next run loads them and records 填报人 and 填报日期."
    )


def _school_name(settings) -> str:
    """The school's name from the warehouse, if it has been loaded; forms are usable without it."""
    from warehouse import db

    try:
        with db.connect(settings.warehouse, read_only=True) as con:
            rows = con.execute("select school_name from core.school").fetchall()
        return rows[0][0] if rows else ""
    except (WarehouseError, duckdb.Error):  # no warehouse or no school yet: the form is correct without it
        return ""


@main.command()
@click.option("--port", default=3000, show_default=True)
@click.option("--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: ./data].")
def dev(port, home):
    """Open the Dagster UI (asset graph, runs, checks, schedule) on http://127.0.0.1:PORT."""
    _use_home(home)
    _dagster_home()
    root = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(root / "workspace.yaml"), "-h", "127.0.0.1"]
    # Started from a script or in the background, SIGINT may be ignored; dagster copies that to SIGTERM and
    # then cannot be stopped. Restore the defaults and become `dagster dev` itself.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.chdir(root)
    os.execv(sys.executable, [*cmd, "-p", str(port)])


if __name__ == "__main__":
    main()
