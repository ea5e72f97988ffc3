"""Core and platform assets, one per SQL file; dependencies are read from the SQL itself.

core.<table>      warehouse/sql/core/<table>.sql, rebuilt whole (conformed entities with dates)
platform.<table>  warehouse/sql/platform/<table>.sql, one academic-year partition at a time
"""

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
    """One asset per core SQL file; its owner is the department the college's configuration names for it."""
    return [_core_asset(path.stem, college.owner(path.stem)) for path in sorted((db.SQL_DIR / "core").glob("*.sql"))]


def _core_asset(name: str, department: str) -> dg.AssetsDefinition:
    reads_items = "$finance_items" in db.sql_text("core", name)  # decided once, not on every materialization

    @dg.asset(
        key=key("core", name),
        deps=[key(*r) for r in db.references("core", name)],
        group_name="core",
        owners=[owner(department)],
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description=_first_comment("core", name),
        metadata={"sql": f"warehouse/sql/core/{name}.sql"},
    )
    def _core(context: dg.AssetExecutionContext, statedata: StatedataResource) -> dg.MaterializeResult:
        items = statedata.settings().finance_items
        if reads_items and not items.exists():
            raise dg.Failure(
                f"core.{name} maps accounting subjects with {items}, which does not exist: copy "
                "demo_campus/college/mappings/finance_items.csv next to your mapping files and adapt it",
                allow_retries=False,
            )
        params = {"finance_items": str(items)}
        with statedata.warehouse() as con:
            metadata = _build(
                context, statedata, con, "core", name, builds.WHOLE, db.sql_text("core", name), params,
                lambda: db.rebuild(con, "core", name, params), extra=file_sha256(items) if reads_items else "",
            )  # fmt: skip
        return dg.MaterializeResult(metadata=metadata)

    return _core


def platform_assets(packs: list[TemplatePack], partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """One asset per platform table the packs name (a form table gets generated SQL), plus the
    helper tables the SQL files read (indicator_input) and the core indicators."""
    tables: dict[str, TableTemplate] = {}
    columns: dict[str, dict] = {}
    for pack in packs:
        for t in pack.tables:
            tables.setdefault(t.source_table, t)
            for c in t.columns:
                columns.setdefault(t.source_table, {}).setdefault(c.field, c)
    out = [_platform_asset(name, t, partitions, columns[name]) for name, t in sorted(tables.items())]
    out.append(_platform_asset("indicator_input", None, partitions, {}))
    out.append(_indicator_asset(partitions))
    return out


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


def _platform_asset(
    name: str, t: TableTemplate | None, partitions: dg.PartitionsDefinition, columns: dict
) -> dg.AssetsDefinition:
    sql = t.form_sql() if t is not None and t.form else None
    department = t.owner if t is not None else "质量管理办公室"
    what = f"The {t.form} department form for the year." if sql else _first_comment("platform", name)
    period = PERIOD_TEXT[t.period if t is not None else "stock"]

    @dg.asset(
        key=key("platform", name),
        deps=[key(*r) for r in db.references("platform", name, sql)],
        group_name="platform",
        owners=[owner(department)],
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        partitions_def=partitions,
        metadata={"sql": f"generated from form {t.form}" if sql else f"warehouse/sql/platform/{name}.sql"}
        | column_metadata(columns),
        description=f"{what} Period: {period}. Owner: {department}.",
    )
    def _platform(context: dg.AssetExecutionContext, statedata: StatedataResource) -> dg.MaterializeResult:
        year = context.partition_key
        params = year_params(year, pack_for_year(year), statedata.settings().template_overrides)
        with statedata.warehouse() as con:
            metadata = _build(
                context, statedata, con, "platform", name, year, db.sql_text("platform", name) if sql is None else sql,
                params, lambda: rebuild_partition(con, "platform", name, year, params, sql, run_id=context.run.run_id),
            )  # fmt: skip
        return dg.MaterializeResult(metadata=metadata | {"stock_date": str(params["stock_date"])})

    return _platform


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


def _indicator_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    defs = indicators.load_definitions()

    @dg.asset(
        key=key("platform", "core_indicator"),
        deps=[key("platform", "indicator_input")],
        group_name="platform",
        owners=[owner("质量管理办公室")],
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        partitions_def=partitions,
        metadata={"definitions": f"reporting/indicators/{defs['path'].name}"},
        description=f"Core indicators of {defs['document']} and the 双师素质 share, with their inputs, "
        "thresholds for the school type and verdicts. Period: stock on the stock date, flows over the "
        "academic year. Owner: 质量管理办公室.",
    )
    def core_indicator(context: dg.AssetExecutionContext, statedata: StatedataResource) -> dg.MaterializeResult:
        with statedata.warehouse() as con:
            n = indicators.build(con, context.partition_key, statedata.settings().school_type, defs)
            failing = [
                i["name"] for i in indicators.indicator_results(con, context.partition_key) if i["result"] == "不合格"
            ]
        return dg.MaterializeResult(metadata={"dagster/row_count": n, "below threshold": ", ".join(failing) or "none"})

    return core_indicator
