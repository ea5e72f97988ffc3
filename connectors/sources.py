"""Open the right client for a source: one function, so assets never branch on the kind."""

from connectors.base import Source
from connectors.files import FileSource
from connectors.sql import SqlSource
from model.mapping import SourceSpec


def open_source(spec: SourceSpec, location: str, settle_seconds: float = 0) -> Source:
    """``location`` is the SQLAlchemy URL (sql) or the drop folder (files), already resolved;
    ``settle_seconds``: file drops changed more recently than this wait for the next run."""
    if spec.kind == "sql":
        return SqlSource(spec, location)
    return FileSource(spec, location, settle_seconds=settle_seconds)
