"""Dagster resources: the warehouse and the source systems, resolved when a run uses them."""

from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import dagster as dg

from connectors.mapping import SourceSpec
from connectors.sources import open_source
from pipelines.settings import Settings, file_settle_seconds, get_settings, source_location
from warehouse import db


class StatedataResource(dg.ConfigurableResource):
    """The working folder (warehouse, outputs, demo sources). Empty means STATEDATA_HOME or ./data."""

    home: str = ""
    full_refresh: bool = False  # read every source table whole, even where the mapping declares a change column

    def settings(self) -> Settings:
        s = get_settings()
        return replace(s, home=Path(self.home).resolve()) if self.home else s

    def source(self, spec: SourceSpec):
        return open_source(spec, source_location(spec, self.settings()), settle_seconds=file_settle_seconds())

    @contextmanager
    def warehouse(self):
        with db.connect(self.settings().warehouse) as con:
            db.init(con)
            yield con
