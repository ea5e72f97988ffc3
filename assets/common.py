"""Shared by the asset modules: the warehouse write pool and how keys are named."""

import dagster as dg

# Every asset that writes the DuckDB file names this pool. No limit is set for it today (a slot that a killed
# run keeps is freed only by a daemon; see pipelines/cli/common.py): one writer at a time comes from the
# nightly job's in-process executor and the run queue's limit of one run. A deployment with a daemon may set
# `concurrency: pools: duckdb_warehouse: 1` too.
WAREHOUSE_POOL = "duckdb_warehouse"


def key(layer: str, table: str) -> dg.AssetKey:
    """Asset key = [schema, table], so the key and the warehouse table always agree."""
    return dg.AssetKey([layer, table])


def owner(department: str) -> str:
    return f"team:{department}"
