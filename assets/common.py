"""Shared by the asset modules: the warehouse write pool and how keys are named."""

import dagster as dg

# Every asset that writes the DuckDB file runs in this pool; give it a limit of 1 in dagster.yaml
# (the nightly job also uses the in-process executor) so the file has one writer at a time.
WAREHOUSE_POOL = "duckdb_warehouse"


def key(layer: str, table: str) -> dg.AssetKey:
    """Asset key = [schema, table], so the key and the warehouse table always agree."""
    return dg.AssetKey([layer, table])


def owner(department: str) -> str:
    return f"team:{department}"
