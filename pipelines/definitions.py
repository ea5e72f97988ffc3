"""The one Definitions object: `dagster dev` (workspace.yaml), the CLI and the tests all load this.

The asset graph is derived from data: one raw+staging step per mapping file, one core asset per
core SQL file, one platform asset per platform table named by the template packs (the core tables built in one
step, the platform tables in another), one export.
"""

import dagster as dg

from assets.checks import key_unique_checks, load_accounting_checks, rule_checks, rules_ahead
from assets.exports import backup_asset, exports_asset
from assets.raw import canonical_asset, source_assets
from assets.resources import StatedataResource
from assets.transform import core_assets, platform_assets
from expectations.generated import rule_set
from model.canonical import load_model
from model.mapping import MappingError, load_mappings, load_views, model_problems
from model.settings import Settings
from model.years import academic_year_of, academic_years, previous_year
from pipelines import nochange
from pipelines.progress import progress_logger
from pipelines.sensors import rule_failure_digest
from reporting.templates import all_packs
from warehouse import inputs
from warehouse.runlock import Busy, run_lock

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
    settings = Settings.from_env()
    year = academic_year_of(when)
    years = [year]
    if when.month in settings.collection_months:
        years.insert(0, previous_year(year))
    requests = []
    for y in years:
        kept, reasons = _unchanged_night(settings, y)
        if kept is not None:
            context.log.info(f"{y}: nothing changed since run {kept['run_id']}: not run (the sources were confirmed "
                             f"unchanged and the rules that read the clock evaluated again)")  # fmt: skip
        else:
            context.log.info(f"{y}: runs, because {'; '.join(reasons[:5])}")
            requests.append(dg.RunRequest(run_key=f"{y}-{when:%Y%m%d}", partition_key=y))
    return requests or dg.SkipReason(f"nothing changed since the last run of {', '.join(years)}")


def _unchanged_night(settings: Settings, academic_year: str) -> tuple[dict | None, list[str]]:
    """What `statedata run` does first (pipelines/nochange.py), for the schedule; when the folder is busy, or the
    check cannot be made, the run is requested and tells what is wrong itself."""
    if not inputs.state_path(settings, academic_year).exists():
        return None, [f"no earlier completed run of {academic_year} on record"]
    try:
        with run_lock(settings.home, f"nightly_schedule: are there changes for {academic_year}?"):
            specs = load_mappings(settings.mappings_dir)
            return nochange.skip(settings, specs, inputs.inputs(settings, specs, academic_year))
    except Busy:
        return None, ["another process is using the working folder: the run waits in the queue"]
    except Exception as e:  # noqa: BLE001 the run reports it properly, with the right step and retries
        return None, [f"the check for changes failed ({type(e).__name__}: {e})"]


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
    rules = rule_set(settings)
    return dg.Definitions(
        assets=[
            *source_assets(specs, settings),
            canonical_asset(model, specs, views, ready=rules_ahead(rules, specs, model)),
            *core_assets(settings.college),
            *platform_assets(packs, academic_year_partitions),
            exports_asset(packs, academic_year_partitions),
            backup_asset(),
        ],
        asset_checks=[
            load_accounting_checks(specs),
            key_unique_checks(packs),
            rule_checks(rules, specs, model),
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
