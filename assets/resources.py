"""Dagster resources: the warehouse and the source systems, resolved when a run uses them."""

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from connectors.sources import open_source
from expectations import suites
from model.mapping import SourceSpec, load_mappings
from model.settings import Settings
from reporting.export import exported_files
from warehouse import db, inputs, memo, offload
from warehouse.runlock import run_lock


class StatedataResource(dg.ConfigurableResource):
    """The working folder (warehouse, outputs, demo sources). Empty means STATEDATA_HOME or ./data."""

    home: str = ""
    full_refresh: bool = False  # read every source table whole, even where the mapping declares a change column
    recompute: bool = False  # read, compute and check everything again, keeping nothing whose inputs are unchanged
    # source systems with nothing to read in this run (warehouse/inputs.py unchanged_systems) -> where they were
    # probed (redacted), set up per run
    _unchanged: dict[str, str] = PrivateAttr(default_factory=dict)
    # may the run keep tables and rule results whose inputs are unchanged (warehouse/inputs.py reusable)
    _reuse: bool = PrivateAttr(default=False)
    # the academic year of a run of the whole graph (None for a part of it): its steps may prepare later ones
    _whole_year: str | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        """Set up once per run (every job runs its steps in one process): the working folder's lock for the
        whole run, so a run launched from the UI, re-executed, or submitted by the schedule or a sensor is the
        one writer, like `statedata run` (which holds it already; the lock is reentrant in its process). When
        another process holds the folder, the run fails at once naming it. A sensor's tick takes nothing.

        A run of the whole graph for a year fingerprints its inputs before its first step, and when no step
        failed records them with the files it wrote (warehouse/inputs.py): the next night compares with them."""
        run = context.run
        if run is None:
            yield self
            return
        tags = run.tags
        what = f"Dagster run {run.run_id[:8]} of {run.job_name}"
        if "dagster/partition" in tags:
            what += f" for {tags['dagster/partition']}"
        for kind in ("schedule", "sensor"):
            if f"dagster/{kind}_name" in tags:
                what += f" ({kind} {tags[f'dagster/{kind}_name']})"
        with run_lock(self.settings().home, what, hint="launch the run again when it has finished"):
            year = tags.get("dagster/partition")
            # the whole job: no asset or check picked (execute_in_process lists every step, with an empty asset
            # selection), not a re-execution of part of an earlier run
            whole = year and not run.asset_selection and run.asset_check_selection is None
            if not whole or run.parent_run_id is not None:  # a part of the graph: its inputs say nothing
                yield self
                return
            settings = self.settings()
            current = inputs.inputs(settings, load_mappings(settings.mappings_dir), year)
            anew = self.full_refresh or self.recompute
            kept = set() if anew else inputs.unchanged_systems(settings, current)
            self._unchanged = {system: current.locations[system] for system in kept}
            self._reuse = not anew and inputs.reusable(settings, current)
            self._whole_year = year
            offload.start(suites.warm)  # GX is imported there while the sources are read here
            known = inputs.contents_path(settings)
            with memo.held(known, settings.warehouse, inputs.warehouse_stamp(settings)):
                yield self
                failed = context.instance.all_logs(run.run_id, of_type={dg.DagsterEventType.STEP_FAILURE})
                memo.record(known, None if failed else inputs.warehouse_stamp(settings))
            if not failed:  # what a night with nothing changed compares with (pipelines/nochange.py)
                with db.connect(settings.warehouse, read_only=True) as con:
                    files = exported_files(con, run.run_id)
                inputs.remember(settings, current, {
                    "academic_year": year, "success": True, "run_id": run.run_id,
                    "output_folder": str(Path(files[0]["path"]).parent) if files else None, "files": files,
                    "finished_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                })  # fmt: skip

    def unchanged(self, system: str) -> str | None:
        """Where the system was probed, when there is nothing to read from it in this run: every table of it
        probes as when the warehouse was last recorded (the extract step confirms it and keeps raw and staging
        as they are); else None."""
        return self._unchanged.get(system)

    def reuse(self) -> bool:
        """True when a step may keep a table or a rule result whose inputs are as when it was made (the run reads
        everything with the code, college folder and settings of the last recorded run; not --force)."""
        return self._reuse

    def whole_run_year(self) -> str | None:
        """The academic year when this run is the whole graph's (every step of it follows), else None."""
        return self._whole_year

    def settings(self) -> Settings:
        """The settings, read from the environment when a step asks, with this resource's home."""
        return Settings.from_env(home=self.home or None)

    def source(self, spec: SourceSpec):
        settings = self.settings()
        return open_source(spec, settings.source_location(spec), settle_seconds=settings.file_settle_seconds)

    @contextmanager
    def warehouse(self):
        settings = self.settings()
        with db.connect(settings.warehouse) as con:
            db.init(con, settings.college_dir / "codes")
            try:
                yield con
            except BaseException:
                memo.forget()  # the step's open transaction is rolled back with the connection
                raise
