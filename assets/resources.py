"""Dagster resources: the warehouse and the source systems, resolved when a run uses them."""

from contextlib import contextmanager

import dagster as dg

from connectors.sources import open_source
from model.mapping import SourceSpec
from model.settings import Settings
from warehouse import db


class StatedataResource(dg.ConfigurableResource):
    """The working folder (warehouse, outputs, demo sources). Empty means STATEDATA_HOME or ./data."""

    home: str = ""
    full_refresh: bool = False  # read every source table whole, even where the mapping declares a change column

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
