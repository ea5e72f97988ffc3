"""Core and platform assets, one per SQL file; dependencies are read from the SQL itself.

core.<table>      warehouse/sql/core/<table>.sql, rebuilt whole (conformed entities with dates)
platform.<table>  warehouse/sql/platform/<table>.sql, one academic-year partition at a time
"""

import dagster as dg

from assets.common import WAREHOUSE_POOL, key, owner
from pipelines.resources import StatedataResource
from warehouse import db
from warehouse.templates import TemplatePack, pack_for_year, year_params

CORE_OWNERS = {  # department answerable for each conformed entity
    "org_unit": "人事处",
    "staff": "人事处",
    "external_teacher": "人事处",
    "major": "教务处",
    "course": "教务处",
    "class": "教务处",
    "teaching_plan": "教务处",
    "teaching_task": "教务处",
    "student": "学生工作处",
    "school": "党政办公室",
}


def _first_comment(layer: str, name: str) -> str:
    line = db.sql_text(layer, name).splitlines()[0]
    return line.lstrip("- ").strip()


def core_assets() -> list[dg.AssetsDefinition]:
    out = []
    for path in sorted((db.SQL_DIR / "core").glob("*.sql")):
        name = path.stem
        out.append(_core_asset(name))
    return out


def _core_asset(name: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=key("core", name),
        deps=[key(*r) for r in db.references("core", name)],
        group_name="core",
        owners=[owner(CORE_OWNERS.get(name, "质量管理办公室"))],
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description=_first_comment("core", name),
        metadata={"sql": f"warehouse/sql/core/{name}.sql"},
    )
    def _core(statedata: StatedataResource) -> dg.MaterializeResult:
        with statedata.warehouse() as con:
            n = db.rebuild(con, "core", name)
        return dg.MaterializeResult(metadata={"dagster/row_count": n})

    return _core


def platform_assets(packs: list[TemplatePack], partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    owners: dict[str, str] = {}
    for pack in packs:
        for t in pack.tables:
            owners.setdefault(t.source_table, t.owner)
    return [_platform_asset(name, owners[name], partitions) for name in sorted(owners)]


def _platform_asset(name: str, department: str, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=key("platform", name),
        deps=[key(*r) for r in db.references("platform", name)],
        group_name="platform",
        owners=[owner(department)],
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        partitions_def=partitions,
        metadata={"sql": f"warehouse/sql/platform/{name}.sql"},
        description=f"{_first_comment('platform', name)} Period: one academic year (1 Sep – 31 Aug); "
        f"stock figures on the template's stock date. Owner: {department}.",
    )
    def _platform(context: dg.AssetExecutionContext, statedata: StatedataResource) -> dg.MaterializeResult:
        year = context.partition_key
        params = year_params(year, pack_for_year(year))
        with statedata.warehouse() as con:
            n = db.rebuild_partition(con, "platform", name, year, params)
        return dg.MaterializeResult(metadata={"dagster/row_count": n, "stock_date": str(params["stock_date"])})

    return _platform
