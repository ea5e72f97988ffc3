"""What every command shares: the working-folder option, the settings, failing with a clear message."""

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from connectors.sql import parse_url
from expectations.generated import rule_set
from model.mapping import MappingError, SourceSpec, load_mappings
from model.settings import Settings, SettingsError
from model.years import parse_year
from reporting.indicators import load_definitions
from warehouse.backup import read_latest

DAGSTER_YAML = """\
# Written by statedata: local run history for `statedata run` and `statedata dev`.
# One run at a time: DuckDB admits one writer per file, so runs the schedule or the UI submit wait in
# the queue (the nightly schedule submits two in the collection season). No pool limits: a pool slot
# that a killed run keeps is freed only by a Dagster daemon, and would block every later CLI run.
# The event log is Dagster's SQLite one, in its usual place, opening one engine per file (pipelines/eventlog.py).
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
event_log_storage:
  module: pipelines.eventlog
  class: SqliteEventLog
  config:
    base_dir: {events}
"""

home_option = click.option(
    "--home", type=click.Path(file_okay=False), default=None, help="Working folder [default: STATEDATA_HOME or ./data]."
)


def fail(msg: str, code: int = 1):
    click.secho(f"statedata: {msg}", fg="red", err=True)
    sys.exit(code)


def load_settings(home: str | None, writes: bool = False) -> Settings:
    """The settings of this command: the environment, with --home in place of STATEDATA_HOME, checked at once
    (also what the settings cannot check alone: the school type against the indicator file, and that each SQL
    source's database driver loads). The working folder is also put in the environment, for the Dagster code a
    command runs in this process; a command that ``writes`` there makes it, or exits saying why it cannot."""
    if home:
        os.environ["STATEDATA_HOME"] = str(Path(home).resolve())
    try:
        settings = Settings.from_env()
    except SettingsError as e:
        fail(str(e), 2)
    urls = {name: url for name, url in settings.locations.items() if name.endswith("_URL")}
    problems = _school_type_problems(settings) + [p for name, url in urls.items() if (p := url_problem(name, url))]
    if problems:
        fail("bad settings in the environment:\n  " + "\n  ".join(problems), 2)
    if writes:
        make_folder(settings.home, "the working folder", "STATEDATA_HOME or --home")
    return settings


def _school_type_problems(settings: Settings) -> list[str]:
    types = load_definitions()["school_types"]
    if settings.school_type is None or settings.school_type in types:
        return []
    where = "STATEDATA_SCHOOL_TYPE"
    if not os.environ.get(where, "").strip():
        where = f"{settings.college_dir / 'college.yaml'} school_type"
    return [f"{where}={settings.school_type!r}: expected one of {', '.join(types)} (the indicator file's)"]


def url_problem(name: str, url: str) -> str | None:
    """Why a SQL source's URL cannot be opened on this machine (it does not parse, or SQLAlchemy has no such
    database, or its driver is not installed), without showing the URL: it may hold a password."""
    if not url.strip():
        return None
    scheme = url.split("://", 1)[0]
    try:
        parse_url(url.strip()).get_dialect().import_dbapi()
    except NoSuchModuleError:  # an ArgumentError too: first
        return f"{name}: SQLAlchemy knows no database {scheme!r} (postgresql, mysql+pymysql, mssql+pyodbc, sqlite …)"
    except (ArgumentError, ValueError):
        return (
            f"{name}: not a SQLAlchemy URL; expected dialect://user:password@host/database, "
            "e.g. postgresql://etl@hr-db/hr"
        )
    except ImportError as e:
        return f"{name}: the driver of {scheme} is not installed here (no module {e.name!r}): pip install it"
    return None


def make_folder(path: Path, what: str, option: str) -> Path:
    """A folder a command writes into, made if missing; else exit 2 naming the option and why it cannot be."""
    blocker = next((p for p in (path, *path.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        fail(f"{option} {path}: {blocker} is a file, not a folder", 2)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"cannot create {what} {path} ({option}): {e.strerror}", 2)
    return path


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
    make_folder(settings.home, "the working folder", "STATEDATA_HOME or --home")
    path = make_folder(
        Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home).resolve(),
        "the run history folder",
        "DAGSTER_HOME",
    )
    config = path / "dagster.yaml"
    text = DAGSTER_YAML.format(events=json.dumps(str(path / "history" / "runs")))  # where Dagster keeps them
    # written when missing, and replaced when an older statedata wrote it (a hand-edited one is kept)
    if not config.exists() or (
        config.read_text(encoding="utf-8").startswith("# Written by statedata")
        and config.read_text(encoding="utf-8") != text
    ):
        config.write_text(text, encoding="utf-8")
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
