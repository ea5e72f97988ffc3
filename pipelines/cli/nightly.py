"""The nightly job in this process, for `statedata run`: the part of the command that needs Dagster (imported only
when a run has something to do: a night on which nothing changed never loads it)."""

import time
from pathlib import Path

import dagster as dg
import duckdb

from expectations.rules import stale_results
from model.settings import Settings
from pipelines.cli.common import load_rules
from pipelines.definitions import build_definitions
from pipelines.progress import step_error
from reporting.export import exported_files
from reporting.indicators import indicator_results
from warehouse import db
from warehouse.db import WarehouseError

CLI_TAG = "statedata/cli"


def execute(
    settings: Settings, academic_year: str, quiet: bool, full_refresh: bool, t0: float, recompute: bool = False
) -> dict:
    """Run the nightly job for the year in this process (the caller holds the folder's lock); its summary.
    ``recompute``: keep nothing whose inputs are unchanged (a system, a table, a rule result, a file).
    Raises MappingError or TemplateError when the definitions cannot be built."""
    defs = build_definitions(settings)
    with dg.DagsterInstance.get() as instance:
        _close_orphaned_runs(instance)
        result = defs.resolve_job_def("nightly_job").execute_in_process(
            partition_key=academic_year,
            instance=instance,
            raise_on_error=False,
            tags={CLI_TAG: "run"},
            run_config={
                "loggers": {"progress": {"config": {"quiet": quiet}}},
                "resources": {"statedata": {"config": {"full_refresh": full_refresh, "recompute": recompute}}},
            },
        )
    return _summary(result, academic_year, time.perf_counter() - t0, settings)


def _summary(result, year: str, elapsed: float, settings: Settings) -> dict:
    steps, rows, checks, errors, retries = {}, {}, [], [], {}
    kept = dict.fromkeys(("assets", "of_assets", "checks", "files_copied"), 0)  # what the run did not compute again
    accounting = dict.fromkeys(("rows_read", "rows_loaded", "rows_quarantined", "files_rejected"), 0)
    for e in result.all_events:
        if e.event_type_value == "STEP_SUCCESS":
            steps[e.step_key] = round(e.event_specific_data.duration_ms / 1000, 3)
        elif e.event_type_value == "ASSET_MATERIALIZATION":
            m = e.event_specific_data.materialization
            kept["of_assets"] += 1
            kept["assets"] += "kept" in m.metadata
            if "copied" in m.metadata:  # the exports: files copied from the last ones written
                kept["files_copied"] += m.metadata["copied"].value
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
            kept["checks"] += bool(ev.metadata.get("kept") and ev.metadata["kept"].value)
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
        "kept": kept,
        "timings_s": {"total": round(elapsed, 3), "by_stage": stage, "by_step": steps},
    }


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
