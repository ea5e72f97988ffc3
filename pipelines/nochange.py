"""A night on which nothing changed: what `statedata run` and the nightly schedule do instead of a run.

When every input of the year's last completed run is as it was, and so are the warehouse and the outputs
(warehouse/inputs.py), nothing is recomputed, re-checked or re-exported. The sources are recorded as confirmed
unchanged (R-SJ-001 counts that as an extraction) and the rules that read the clock are evaluated again alone;
if one of them comes out otherwise, the night is a whole run after all, since the outputs showed the old result.
So is a night when a table read by its change column is due its whole read (STATEDATA_RECONCILE_DAYS): the
probe says the source is as it was, not that the incremental reads missed nothing.
The caller holds the working folder's lock. No Dagster here: a night with nothing to do never loads it.
"""

import time
import uuid
from datetime import datetime, timezone

from expectations.generated import rule_set
from expectations.rules import recheck, rule_params
from model.mapping import SourceSpec
from model.settings import Settings
from warehouse import db, inputs, memo
from warehouse.backup import vouch
from warehouse.raw import confirm_unchanged, whole_read_due


def skip(settings: Settings, specs: dict[str, SourceSpec], current: inputs.Inputs) -> tuple[dict | None, list[str]]:
    """(the summary of the year's last run, with what this night did under ``skipped``, []) when nothing changed;
    else (None, every reason the year must run)."""
    t, started = time.perf_counter(), datetime.now(timezone.utc)
    kept, reasons = inputs.unchanged(settings, current)
    if kept is None:
        return None, reasons
    year = current.academic_year
    clock = [r for r in rule_set(settings, specs) if r.reads_clock and r.applies(year)]
    run_id = f"unchanged-{uuid.uuid4()}"
    before, changed, known = db.file_stamp(settings.warehouse), [], inputs.contents_path(settings)
    with memo.held(known, settings.warehouse, before):  # the tables the clock rules read, as the last run knew them
        with db.connect(settings.warehouse) as con:
            due = whole_read_due(con, specs, settings.reconcile_days, started)
            if not due:  # else an incremental read may have missed a row changed without its change column moving
                con.execute("begin")
                confirm_unchanged(con, current.locations, started)
                changed = recheck(con, clock, year, rule_params(con, year, settings), run_id)
                con.execute("rollback" if changed else "commit")
        if not changed:  # it wrote audit rows only: what is known holds for the file as it is now
            memo.record(known, db.file_stamp(settings.warehouse))
    vouch(settings.warehouse, settings.backups_dir, before)  # this night's few rows do not call for a whole read
    if due:
        return None, [f"source {t} is due its whole read (STATEDATA_RECONCILE_DAYS)" for t in due]
    if changed:
        return None, [f"{rule} came out otherwise" for rule in changed]
    summary = kept["summary"]
    inputs.remember(settings, current, summary)  # the warehouse's new stamp: it holds this night's records
    return summary | {
        "skipped": {
            "unchanged_since": summary["run_id"],
            "finished_at": summary.get("finished_at"),
            "confirmation": run_id,
            "rules_rechecked": [r.id for r in clock],
        },
        "timings_s": {"total": round(time.perf_counter() - t, 3), "by_stage": {}, "by_step": {}},
    }, []
