"""What every command shares: the working-folder option, the settings, failing with a clear message."""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from expectations.generated import rule_set
from model.mapping import MappingError, SourceSpec, load_mappings
from model.settings import Settings, SettingsError
from model.years import parse_year
from warehouse.backup import read_latest

DAGSTER_YAML = """\
# Written by statedata: local run history for `statedata run` and `statedata dev`.
# One run at a time: DuckDB admits one writer per file, so runs the schedule or the UI submit wait in
# the queue (the nightly schedule submits two in the collection season). No pool limits: a pool slot
# that a killed run keeps is freed only by a Dagster daemon, and would block every later CLI run.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
"""

home_option = click.option(
    "--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: STATEDATA_HOME or ./data]."
)


def fail(msg: str, code: int = 1):
    click.secho(f"statedata: {msg}", fg="red", err=True)
    sys.exit(code)


def load_settings(home: str | None) -> Settings:
    """The settings of this command: the environment, with --home in place of STATEDATA_HOME. The working
    folder is also put in the environment, for the Dagster code a command runs in this process."""
    if home:
        os.environ["STATEDATA_HOME"] = str(Path(home).resolve())
    try:
        return Settings.from_env()
    except SettingsError as e:
        fail(str(e), 2)


def load_specs(settings: Settings) -> dict[str, SourceSpec]:
    """The college's mapping files; a broken one ends the command with its file and key named."""
    try:
        return load_mappings(settings.mappings_dir)
    except MappingError as e:
        fail(str(e), 2)


def load_rules(settings: Settings) -> list:
    """The catalogue and the rules generated for the college's mappings; a broken mapping ends the command."""
    return rule_set(settings, load_specs(settings))


def checked_year(academic_year: str) -> str:
    """A --year value, or exit 2 saying what form it must have."""
    try:
        parse_year(academic_year)
    except ValueError as e:
        fail(str(e), 2)
    return academic_year


def dagster_home(settings: Settings) -> Path:
    """A persistent DAGSTER_HOME under the working folder, so runs show up in `statedata dev`."""
    path = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home).resolve()
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    # written when missing, and replaced when an older statedata wrote it (a hand-edited one is kept)
    if not config.exists() or (
        config.read_text(encoding="utf-8").startswith("# Written by statedata")
        and config.read_text(encoding="utf-8") != DAGSTER_YAML
    ):
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(path)
    return path


@contextmanager
def reading(settings: Settings):
    """A read-only connection for a command that only reads. While a run writes the warehouse it reads the
    newest backup (the state after the last completed run) instead of being refused, and says so on stderr."""
    with read_latest(settings.warehouse, settings.backups_dir) as (con, backup):
        if backup is not None:
            click.secho(
                f"statedata: a run is writing the warehouse; showing the state after the last completed run "
                f"(backup {backup.name}). 正在运行的任务写入中，以下为上一次完成运行时的数据。",
                fg="yellow",
                err=True,
            )
        yield con
