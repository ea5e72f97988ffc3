"""Dagster resources: the warehouse and the source systems, resolved when a run uses them."""

from contextlib import contextmanager

import dagster as dg

from connectors.sources import open_source
from model.mapping import SourceSpec
from model.settings import Settings
from warehouse import db
from warehouse.runlock import run_lock


class StatedataResource(dg.ConfigurableResource):
    """The working folder (warehouse, outputs, demo sources). Empty means STATEDATA_HOME or ./data."""

    home: str = ""
    full_refresh: bool = False  # read every source table whole, even where the mapping declares a change column

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        """Set up once per run (every job runs its steps in one process): the working folder's lock for the
        whole run, so a run launched from the UI, re-executed, or submitted by the schedule or a sensor is the
        one writer, like `statedata run` (which holds it already; the lock is reentrant in its process). When
        another process holds the folder, the run fails at once naming it. A sensor's tick takes nothing."""
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
            yield self

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
            yield con
