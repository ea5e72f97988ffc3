"""The output files: one .xlsx per national table of the year's template pack."""

import dagster as dg

from assets.common import WAREHOUSE_POOL, key
from pipelines.resources import StatedataResource
from warehouse.export import export_year
from warehouse.templates import TemplatePack, pack_for_year

EXPORT_KEY = key("exports", "base_tables")


def export_folder_name(con, academic_year: str) -> str:
    # fetchall, not fetchone: DuckDB 2.0 keeps a half-read result open and refuses the next con.sql()
    rows = con.execute(
        "select school_code from platform.school_basic where academic_year = ?", [academic_year]
    ).fetchall()
    return f"{rows[0][0] if rows else 'school'}_{academic_year}"


def exports_asset(packs: list[TemplatePack], partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    platform = sorted({t.source_table for p in packs for t in p.tables})

    @dg.asset(
        key=EXPORT_KEY,
        deps=[key("platform", t) for t in platform],
        group_name="exports",
        owners=["team:质量管理办公室"],
        kinds={"excel"},
        pool=WAREHOUSE_POOL,
        partitions_def=partitions,
        description="The national base tables (数据源表) as .xlsx files with the platform's Chinese headers, "
        "one folder per school and academic year, replaced only when every file is written.",
    )
    def base_tables(context: dg.AssetExecutionContext, statedata: StatedataResource) -> dg.MaterializeResult:
        year = context.partition_key
        pack = pack_for_year(year)
        with statedata.warehouse() as con:
            folder = statedata.settings().out_dir / export_folder_name(con, year)
            files = export_year(con, pack, year, folder)
            con.executemany(
                "insert into audit.export_log values (?, ?, ?, ?, ?, ?, now())",
                [[context.run.run_id, year, f.table_id, str(f.path), f.rows, f.sha256] for f in files],
            )
        table = "\n".join(f"| {f.number} | {f.name} | {f.rows} |" for f in files)
        return dg.MaterializeResult(
            metadata={
                "folder": dg.MetadataValue.path(str(folder)),
                "template pack": f"{pack.pack} {pack.version}",
                "files": dg.MetadataValue.md("| 表号 | 表名 | 行数 |\n|---|---|---|\n" + table),
                "dagster/row_count": sum(f.rows for f in files),
            }
        )

    return base_tables
