"""Open the right client for a source: one function, so assets never branch on the kind."""

from connectors.files import FileSource
from connectors.mapping import SourceSpec
from connectors.sql import SqlSource


def open_source(spec: SourceSpec, location: str) -> SqlSource | FileSource:
    """``location`` is the SQLAlchemy URL (sql) or the drop folder (files), already resolved."""
    if spec.kind == "sql":
        return SqlSource(spec, location)
    return FileSource(spec, location)
