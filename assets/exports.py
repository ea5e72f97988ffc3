"""The output files: one .xlsx per national table of the year's template pack."""

import dagster as dg

from assets.common import WAREHOUSE_POOL, key
from assets.resources import StatedataResource
from expectations.generated import rule_set
from expectations.rules import blocking_rules
from model.years import previous_year
from reporting.export import publish_year
from reporting.templates import TemplatePack, pack_for_year
from warehouse.backup import backup, backups
from warehouse.compact import compact_warehouse, due, free_share
from warehouse.db import WarehouseError
from warehouse.fingerprint import Fingerprints

EXPORT_KEY = key("exports", "base_tables")


def exports_asset(packs: list[TemplatePack], partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    platform = sorted({t.source_table for p in packs for t in p.tables})

    @dg.asset(
        key=EXPORT_KEY,
        # the rules' step runs first (its submission_ready check is blocking), so the year's verdict is known
        deps=[key("platform", t) for t in platform] + [key("platform", "core_indicator")],
        group_name="exports",
        owners=["team:质量管理办公室"],
        kinds={"excel"},
        pool=WAREHOUSE_POOL,
        partitions_def=partitions,
        description="The national tables as .xlsx files with the platform's Chinese headers, and the "
        "核心数据复核清单, one folder per school and academic year, replaced only when every file is written. "
        "While an error rule fails they are written as a draft, to <school>_<year>_draft, each workbook "
        "marked 草稿; the last good folder stays as it was.",
    )
    def base_tables(context: dg.AssetExecutionContext, statedata: StatedataResource) -> dg.MaterializeResult:
        year = context.partition_key
        pack = pack_for_year(year)
        with statedata.warehouse() as con:
            prints = Fingerprints(con, year, previous_year(year))
            try:
                blocking = [
                    f"{r.id} {r.message}（{why}）"
                    for r, why in blocking_rules(con, rule_set(statedata.settings()), year, prints)
                ]
            except ValueError:  # the rules were not part of this run and never evaluated for the year
                blocking = ["尚未对本学年执行校验规则"]
            folder, files = publish_year(
                con, pack, year, statedata.settings().out_dir, blocking, context.run.run_id, statedata.reuse()
            )
        table = "\n".join(f"| {f.number} | {f.name} | {f.rows} |" for f in files)
        return dg.MaterializeResult(
            metadata={
                "folder": dg.MetadataValue.path(str(folder)),
                "template pack": f"{pack.pack} {pack.version}",
                "files": dg.MetadataValue.md("| 表号 | 表名 | 行数 |\n|---|---|---|\n" + table),
                "dagster/row_count": sum(f.rows for f in files),
                "draft": bool(blocking),
                "copied": sum(f.copied for f in files),  # rows and marking unchanged since the file was written
                "blocking_rules": dg.MetadataValue.json(blocking),
            }
        )

    return base_tables


BACKUP_KEY = key("audit", "warehouse_backup")


def backup_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=BACKUP_KEY,
        deps=[EXPORT_KEY],
        group_name="audit",
        owners=["team:信息中心"],
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description="A copy of the warehouse after each nightly run (STATEDATA_HOME/backups, the newest "
        "STATEDATA_BACKUP_KEEP kept); `statedata restore` brings the newest back. The warehouse is compacted first "
        "when STATEDATA_COMPACT_FREE % of it or more is free blocks (warehouse/compact.py).",
    )
    def warehouse_backup(context: dg.AssetExecutionContext, statedata: StatedataResource) -> dg.MaterializeResult:
        settings = statedata.settings()
        compacted = None
        if settings.warehouse.exists() and due(settings, free_share(settings.warehouse)):
            try:
                compacted = compact_warehouse(settings)
            except WarehouseError as e:  # housekeeping: the warehouse is as it was, and is backed up as it is
                context.log.warning(f"not compacted: {e}")
            else:
                context.log.info(
                    f"warehouse compacted: {compacted.free_share:.0%} of it was free blocks; "
                    f"{compacted.before_bytes / 2**20:,.1f} MiB → {compacted.after_bytes / 2**20:,.1f} MiB "
                    f"in {compacted.seconds:.1f}s"
                )
        path = backup(settings.warehouse, settings.backups_dir, keep=settings.backup_keep)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "size_mib": round(path.stat().st_size / 2**20, 1),
                "backups_kept": len(backups(settings.backups_dir)),
            }
            | ({"compacted_from_mib": round(compacted.before_bytes / 2**20, 1)} if compacted else {})
        )

    return warehouse_backup
