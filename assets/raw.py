"""Raw and staging assets: one step per source system.

Each step extracts every entity of its system, then loads them into raw.<system>__<entity> in one
transaction (a batch is visible all or nothing) and rebuilds the matching staging tables.
"""

import time
from collections.abc import Callable
from datetime import datetime, timezone

import dagster as dg

from assets.common import WAREHOUSE_POOL, key, owner
from assets.resources import StatedataResource
from connectors.base import SourceError
from model.canonical import Model
from model.mapping import VIEW_READS, SourceSpec
from model.settings import Settings, SettingsError
from warehouse import raw, staging
from warehouse.raw import SchemaDriftError

KINDS = {"sql": {"sql", "duckdb"}, "files": {"excel", "duckdb"}}
# a raw asset's load accounting in its metadata (the run summary adds them up)
ACCOUNTING = ("rows_read", "rows_inserted", "rows_unchanged", "rows_closed", "rows_quarantined", "files_rejected")


def build_source_asset(spec: SourceSpec, settings: Settings) -> dg.AssetsDefinition:
    specs = []
    for e in spec.entities.values():
        name = spec.table_name(e.name)
        what = f"{e.description or e.name} — {spec.title}"
        specs.append(
            dg.AssetSpec(
                key("raw", name),
                group_name=spec.system,
                owners=[owner(spec.department)],
                kinds=KINDS[spec.kind],
                description=f"{what}: every version of every source row ({e.source_name}), with its pedigree.",
                metadata={"source": e.source_name, "primary key": ", ".join(e.primary_key), "mapping": spec.path.name},
            )
        )
        specs.append(
            dg.AssetSpec(
                key("staging", name),
                deps=[key("raw", name)],
                group_name=spec.system,
                owners=[owner(spec.department)],
                kinds={"duckdb"},
                description=f"{what}: current rows, typed, codes translated as the mapping declares.",
            )
        )

    @dg.multi_asset(
        name=f"extract_{spec.system}",
        specs=specs,
        pool=WAREHOUSE_POOL,
        description=f"Extract {spec.title} ({spec.department}) and load it as one batch.",
        retry_policy=dg.RetryPolicy(
            max_retries=settings.source_retries, delay=settings.source_retry_delay_s, backoff=dg.Backoff.EXPONENTIAL
        ),
    )
    def _extract(context: dg.AssetExecutionContext, statedata: StatedataResource):
        started = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        location = statedata.unchanged(spec.system)
        if location is not None:
            with statedata.warehouse() as con:
                due = raw.whole_read_due(con, {spec.system: spec}, statedata.settings().reconcile_days, started)
                if not due:  # else an incremental read may have missed something: read as usual
                    yield from _keep(context, spec, location, con, started)
                    return
        since: dict[str, str | None] = dict.fromkeys(spec.entities)
        if spec.kind == "sql" and not statedata.full_refresh:  # incremental where the source marks changes
            with statedata.warehouse() as con:
                days = statedata.settings().reconcile_days
                since = {
                    n: raw.incremental_start(con, spec, e, days, started) if e.change_column else None
                    for n, e in spec.entities.items()
                }
        try:
            source = statedata.source(spec)
        except SettingsError as err:  # a variable to set, not a source to wait for: no retry
            raise dg.Failure(description=str(err), allow_retries=False) from None
        keys = {}
        try:
            extracts = {}
            for e in spec.entities.values():
                if since[e.name] is None:
                    extracts[e.name] = source.extract(e)
                else:
                    extracts[e.name] = source.extract(e, since=since[e.name])
                    keys[e.name] = source.extract_keys(e).table
        except SourceError as err:  # retried by the policy only when the source may come back
            raise dg.Failure(description=str(err), allow_retries=err.transient) from None
        finally:
            source.close()
        t_extract = time.perf_counter() - t0
        with statedata.warehouse() as con:
            try:
                batch, stats = raw.load_batch(con, spec, extracts, started, source.location, keys)
            except (SchemaDriftError, raw.BatchError) as err:  # not retried: the retry policy is for sources
                raise dg.Failure(description=str(err), allow_retries=False) from err
            t_load = time.perf_counter() - t0 - t_extract
            staging.load_translations(con, spec)
            for name, e in spec.entities.items():
                s = stats[name]
                current = raw.current_rows(con, spec, name)
                yield dg.MaterializeResult(
                    asset_key=key("raw", spec.table_name(name)),
                    metadata={
                        "dagster/row_count": current,
                        "batch_id": batch,
                        "rows_read": s.rows_read,
                        "rows_inserted": s.rows_inserted,
                        "rows_unchanged": s.rows_unchanged,
                        "rows_closed": s.rows_closed,
                        "rows_quarantined": s.rows_quarantined,
                        "files_rejected": s.files_rejected,
                        "source": extracts[name].source,
                        "extraction": f"changed since {since[name]}" if since[name] else "full",
                    }
                    | (  # a whole read of a table with a change column: what that column failed to show
                        {"rows_changed_unmarked": s.rows_changed_unmarked}
                        if s.rows_changed_unmarked is not None
                        else {}
                    ),
                )
                n, superseded = staging.build_staging(con, spec, e)
                meta = {"dagster/row_count": n}
                if e.latest_by:  # the accounting of a repeated key: older versions kept in raw, not staged
                    meta["rows_superseded"] = superseded
                yield dg.MaterializeResult(asset_key=key("staging", spec.table_name(name)), metadata=meta)
        context.log.info(
            f"{spec.system}: batch {batch}, extract {t_extract:.2f}s, load {t_load:.2f}s, "
            f"{sum(s.rows_read for s in stats.values())} rows read, "
            f"{sum(s.rows_quarantined for s in stats.values())} rows quarantined, "
            f"{sum(s.files_rejected for s in stats.values())} files set aside"
        )

    return _extract


KEPT = "the source system probes as at the last recorded run"


def _keep(context, spec: SourceSpec, location: str, con, started: datetime):
    """A system whose every table probes as when the warehouse was last recorded: confirmed unchanged (a batch
    with no rows), its raw and staging tables kept as they are."""
    raw.confirm_unchanged(con, {spec.system: location}, started)
    for name, e in spec.entities.items():
        yield dg.MaterializeResult(
            asset_key=key("raw", spec.table_name(name)),
            metadata={"dagster/row_count": raw.current_rows(con, spec, name), "extraction": "unchanged (probed)"}
            | dict.fromkeys(ACCOUNTING, 0)
            | {"kept": KEPT},
        )
        yield dg.MaterializeResult(
            asset_key=key("staging", spec.table_name(name)),
            metadata={"dagster/row_count": staging.staged_rows(con, spec, e), "kept": KEPT},
        )
    context.log.info(f"{spec.system}: every table probes as at the last recorded run: nothing read, kept as is")


def canonical_asset(
    model: Model, specs: dict[str, SourceSpec], views: dict[str, str] | None = None, ready: Callable | None = None
) -> dg.AssetsDefinition:
    """``staging.<entity>`` for every entity of the canonical model, in one step: a view over the staging
    tables of the mappings that feed it (empty when none does), or the college's own SQL (``views``).
    ``ready(con, statedata, year)``: called once they are built, in a run of the whole graph, to start what later
    steps read of them (the rules step's GX suites: assets/checks.py rules_ahead)."""
    views = views or {}
    by_table = {s.table_name(e.name): (s, e) for s in specs.values() for e in s.entities.values()}
    feeders = {
        name: [by_table[t] for t in dict.fromkeys(VIEW_READS.findall(views[name])) if t in by_table]
        if name in views
        else [(s, e) for s in specs.values() for e in s.entities.values() if e.canonical == name]
        for name in model.entities
    }
    asset_specs = [
        dg.AssetSpec(
            key("staging", name),
            deps=[key("staging", s.table_name(e.name)) for s, e in feeders[name]],
            group_name="canonical",
            owners=[owner(feeders[name][0][0].department)] if feeders[name] else [],
            kinds={"duckdb"},
            description=f"{entity.title}: the canonical relation (docs/model.md), "
            + ("defined by the college's views/" + name + ".sql, " if name in views else "")
            + (
                "from " + ", ".join(f"{s.system}.{e.source_name}" for s, e in feeders[name])
                if feeders[name]
                else "empty: no mapping feeds it"
            ),
        )
        for name, entity in model.entities.items()
    ]

    @dg.multi_asset(
        name="canonical",
        specs=asset_specs,
        pool=WAREHOUSE_POOL,
        description="The canonical relations: one view per entity of the canonical model over the staging tables.",
    )
    def _canonical(context: dg.AssetExecutionContext, statedata: StatedataResource):
        with statedata.warehouse() as con:
            try:
                built = staging.build_canonical(con, model, specs, views)
            except staging.ViewError as err:
                raise dg.Failure(description=str(err), allow_retries=False) from None
            if ready is not None and (year := statedata.whole_run_year()):
                try:
                    ready(con, statedata, year)
                except Exception as err:  # noqa: BLE001 only a head start: the later step does it, and reports it
                    context.log.warning(f"not started ahead ({type(err).__name__}: {err}); the later step does it")
        for name, (n, tables) in built.items():
            yield dg.MaterializeResult(
                asset_key=key("staging", name),
                metadata={"dagster/row_count": n, "staging tables": ", ".join(tables) or "none"},
            )

    return _canonical


def source_assets(specs: dict[str, SourceSpec], settings: Settings) -> list[dg.AssetsDefinition]:
    return [build_source_asset(s, settings) for s in specs.values()]
