"""The one Definitions object: `dagster dev` (workspace.yaml), the CLI and the tests all load this.

The asset graph is derived from data: one raw+staging step per mapping file, one core asset per
core SQL file, one platform asset per platform table named by the template packs, one export.
"""

import dagster as dg

from assets.checks import key_unique_checks, load_accounting_checks, rule_checks
from assets.exports import backup_asset, exports_asset
from assets.raw import canonical_asset, source_assets
from assets.resources import StatedataResource
from assets.transform import core_assets, platform_assets
from expectations.generated import rule_set
from model.canonical import load_model
from model.mapping import MappingError, load_mappings, load_views, model_problems
from model.settings import Settings
from model.years import academic_year_of, academic_years, previous_year
from pipelines.progress import progress_logger
from pipelines.sensors import rule_failure_digest
from reporting.templates import all_packs

academic_year_partitions = dg.StaticPartitionsDefinition(academic_years())

nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=dg.AssetSelection.all(),  # partitioned by academic year, like its assets
    executor_def=dg.in_process_executor,  # one process writes the DuckDB file
    description="Extract every source system, rebuild staging and core, and produce the national tables "
    "and their .xlsx files for one academic year.",
)


@dg.schedule(
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    description="Every night at 02:00 (Beijing time), for the academic year the night falls in; in the "
    "collection season (STATEDATA_COLLECTION_MONTHS, default September to December) first for the year "
    "just completed, whose submission is being prepared.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    when = context.scheduled_execution_time
    year = academic_year_of(when)
    years = [year]
    if when.month in Settings.from_env().collection_months:
        years.insert(0, previous_year(year))
    return [dg.RunRequest(run_key=f"{y}-{when:%Y%m%d}", partition_key=y) for y in years]


def build_definitions(settings: Settings) -> dg.Definitions:
    specs = load_mappings(settings.mappings_dir)
    model = load_model()
    views = load_views(settings.college_dir / "views")
    errors = [str(p) for p in model_problems(specs, model, views) if p.level == "error"]
    if errors:
        raise MappingError(
            f"{settings.mappings_dir}: the mappings do not fit the canonical model:\n" + "\n".join(errors)
        )
    packs = all_packs()
    return dg.Definitions(
        assets=[
            *source_assets(specs, settings),
            canonical_asset(model, specs, views),
            *core_assets(settings.college),
            *platform_assets(packs, academic_year_partitions),
            exports_asset(packs, academic_year_partitions),
            backup_asset(),
        ],
        asset_checks=[
            load_accounting_checks(specs),
            key_unique_checks(packs),
            rule_checks(rule_set(settings), specs, model),
        ],
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        sensors=[rule_failure_digest],
        resources={"statedata": StatedataResource()},
        # every job's steps in one process, also the implicit asset job behind the UI's "Materialize" and its
        # re-executions: one writer of the DuckDB file, and one set-up of the resource (the folder lock) per run
        executor=dg.in_process_executor,
        loggers={"progress": progress_logger},
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Built when Dagster loads the code location, from the settings in the environment then."""
    return build_definitions(Settings.from_env())
