"""Core and platform tables: each table its own asset, its dependencies read from its SQL; all core tables are
built in one step, and all platform tables of an academic year in another (a step costs Dagster about 0.15 s, more
than most of these tables take to build). Each step can build any subset: the UI materializes one table alone.

core.<table>      warehouse/sql/core/<table>.sql, rebuilt whole (conformed entities with dates)
platform.<table>  warehouse/sql/platform/<table>.sql, one academic-year partition at a time
"""

from collections.abc import Callable, Iterator
from graphlib import TopologicalSorter

import dagster as dg

from assets.common import WAREHOUSE_POOL, key, owner
from assets.resources import StatedataResource
from connectors.base import file_sha256
from model.settings import College
from reporting import indicators
from reporting.templates import TableTemplate, TemplatePack, pack_for_year, year_params
from warehouse import builds, db
from warehouse.partition import rebuild_partition

PERIOD_TEXT = {
    "stock": "stock figures on the template's stock date (1 September)",
    "academic_year": "the academic year (1 Sep – 31 Aug)",
    "calendar_year": "the calendar year the academic year starts in",
}


def _first_comment(layer: str, name: str) -> str:
    line = db.sql_text(layer, name).splitlines()[0]
    return line.lstrip("- ").strip()


def core_assets(college: College) -> list[dg.AssetsDefinition]:
    """Every core SQL file, as one asset each built in one step; a table's owner is the department the college's
    configuration names for it."""
    names = [path.stem for path in sorted((db.SQL_DIR / "core").glob("*.sql"))]
    reads = {n: db.references("core", n) for n in names}
    reads_items = {n for n in names if "$finance_items" in db.sql_text("core", n)}  # decided once
    specs = [
        dg.AssetSpec(
            key("core", n),
            deps=[key(*r) for r in reads[n]],
            group_name="core",
            owners=[owner(college.owner(n))],
            kinds={"duckdb"},
            description=_first_comment("core", n),
            metadata={"sql": f"warehouse/sql/core/{n}.sql"},
        )
        for n in names
    ]

    @dg.multi_asset(name="core", specs=specs, can_subset=True, pool=WAREHOUSE_POOL)
    def _core(context: dg.AssetExecutionContext, statedata: StatedataResource):
        items = statedata.settings().finance_items
        params = {"finance_items": str(items)}

        def build(con, name: str) -> dict:
            if name in reads_items and not items.exists():
                raise dg.Failure(
                    f"core.{name} maps accounting subjects with {items}, which does not exist: copy "
                    "demo_campus/college/mappings/finance_items.csv next to your mapping files and adapt it",
                    allow_retries=False,
                )
            return _build(
                context, statedata, con, "core", name, builds.WHOLE, db.sql_text("core", name), params,
                lambda: db.rebuild(con, "core", name, params), extra=file_sha256(items) if name in reads_items else "",
            )  # fmt: skip

        yield from _in_order(context, statedata, "core", reads, build)

    return [_core]


def platform_assets(packs: list[TemplatePack], partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every platform table the packs name (a form table gets generated SQL), the helper tables the SQL files read
    (indicator_input) and the core indicators, as one asset each, built in one step per academic year."""
    tables: dict[str, TableTemplate | None] = {}
    columns: dict[str, dict] = {}
    for pack in packs:
        for t in pack.tables:
            tables.setdefault(t.source_table, t)
            for c in t.columns:
                columns.setdefault(t.source_table, {}).setdefault(c.field, c)
    tables = dict(sorted(tables.items())) | {"indicator_input": None}
    sqls = {n: t.form_sql() if t is not None and t.form else None for n, t in tables.items()}
    reads = {n: db.references("platform", n, sqls[n]) for n in tables}
    reads["core_indicator"] = [("platform", "indicator_input")]  # indicators.build, in Python
    defs = indicators.load_definitions()
    specs = [_platform_spec(n, t, sqls[n], reads[n], columns.get(n, {})) for n, t in tables.items()]
    specs.append(
        dg.AssetSpec(
            key("platform", "core_indicator"),
            deps=[key("platform", "indicator_input")],
            group_name="platform",
            owners=[owner("质量管理办公室")],
            kinds={"duckdb"},
            metadata={"definitions": f"reporting/indicators/{defs['path'].name}"},
            description=f"Core indicators of {defs['document']} and the 双师素质 share, with their inputs, "
            "thresholds for the school type and verdicts. Period: stock on the stock date, flows over the "
            "academic year. Owner: 质量管理办公室.",
        )
    )

    @dg.multi_asset(name="platform", specs=specs, can_subset=True, pool=WAREHOUSE_POOL, partitions_def=partitions)
    def _platform(context: dg.AssetExecutionContext, statedata: StatedataResource):
        year = context.partition_key
        settings = statedata.settings()
        params = year_params(year, pack_for_year(year), settings.template_overrides)

        def build(con, name: str) -> dict:
            if name == "core_indicator":
                n = indicators.build(con, year, settings.school_type, defs)
                failing = [i["name"] for i in indicators.indicator_results(con, year) if i["result"] == "不合格"]
                return {"dagster/row_count": n, "below threshold": ", ".join(failing) or "none"}
            sql = sqls[name]
            metadata = _build(
                context, statedata, con, "platform", name, year, db.sql_text("platform", name) if sql is None else sql,
                params, lambda: rebuild_partition(con, "platform", name, year, params, sql, run_id=context.run.run_id),
            )  # fmt: skip
            return metadata | {"stock_date": str(params["stock_date"])}

        yield from _in_order(context, statedata, "platform", reads, build)

    return [_platform]


def _in_order(
    context: dg.AssetExecutionContext,
    statedata: StatedataResource,
    layer: str,
    reads: dict[str, list[tuple[str, str]]],
    build: Callable,
) -> Iterator[dg.MaterializeResult]:
    """Build the selected tables of one layer, each after the tables of that layer it reads. When one fails the
    others are still built, except those that read it; then the step fails, naming every table not built and why."""
    selected = sorted(k.path[1] for k in context.selected_asset_keys)  # one order, whatever the set's
    order = TopologicalSorter({n: [r for lay, r in reads[n] if lay == layer and r in selected] for n in selected})
    failed: dict[str, str] = {}
    with statedata.warehouse() as con:
        for name in order.static_order():
            upstream = [r for lay, r in reads[name] if lay == layer and r in failed]
            if upstream:
                failed[name] = f"not built: it reads {', '.join(f'{layer}.{r}' for r in upstream)}"
                continue
            try:
                metadata = build(con, name)
            except Exception as e:  # noqa: BLE001 the others are built; the step fails at the end, naming each
                failed[name] = e.description if isinstance(e, dg.Failure) else f"{type(e).__name__}: {e}"
                context.log.error(f"{layer}.{name}: {failed[name]}")
                continue
            yield dg.MaterializeResult(asset_key=key(layer, name), metadata=metadata)
    if failed:
        raise dg.Failure(
            description=f"{len(failed)} {layer} table(s) not built:\n"
            + "\n".join(f"{layer}.{n}: {why}" for n, why in failed.items()),
            allow_retries=False,
        )


def column_metadata(columns: dict) -> dict:
    """The national table's columns (Chinese header as description) and where each comes from: the canonical
    field a template names as `<entity>.<field>` (computed figures have no source column)."""
    if not columns:
        return {}
    lineage = {}
    for field, c in columns.items():
        parts = c.source.split(".")
        if not c.source.startswith("computed:") and len(parts) == 2:
            lineage[field] = [dg.TableColumnDep(asset_key=key("staging", parts[0]), column_name=parts[1])]
    return {
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(f, description=f"{c.group + '/' if c.group else ''}{c.header}")
                for f, c in columns.items()
            ]
        ),
        "dagster/column_lineage": dg.TableColumnLineage(deps_by_column=lineage),
    }


def _platform_spec(
    name: str, t: TableTemplate | None, sql: str | None, reads: list[tuple[str, str]], columns: dict
) -> dg.AssetSpec:
    department = t.owner if t is not None else "质量管理办公室"
    what = f"The {t.form} department form for the year." if sql else _first_comment("platform", name)
    period = PERIOD_TEXT[t.period if t is not None else "stock"]
    return dg.AssetSpec(
        key("platform", name),
        deps=[key(*r) for r in reads],
        group_name="platform",
        owners=[owner(department)],
        kinds={"duckdb"},
        metadata={"sql": f"generated from form {t.form}" if sql else f"warehouse/sql/platform/{name}.sql"}
        | column_metadata(columns),
        description=f"{what} Period: {period}. Owner: {department}.",
    )


def _build(
    context: dg.AssetExecutionContext,
    statedata: StatedataResource,
    con,
    layer: str,
    name: str,
    academic_year: str,
    sql: str,
    params: dict,
    build,
    extra: str = "",
) -> dict:
    """Build a table (or its academic year) with ``build()``, or keep it when the run may keep what is unchanged and
    its SQL, parameters and every table it reads are as at its last build (warehouse/builds.py); its metadata."""
    build_key = builds.key(con, sql, params, db.references(layer, name, sql), extra)
    n = builds.kept(con, layer, name, academic_year, build_key) if statedata.reuse() else None
    if n is not None:
        return {"dagster/row_count": n, "kept": "its inputs are unchanged since its last build"}
    n = build()
    builds.remember(con, layer, name, academic_year, build_key, context.run.run_id)
    return {"dagster/row_count": n}
