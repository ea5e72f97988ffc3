"""The one place that reads the environment.

STATEDATA_HOME            working folder (default ./data): demo sources, warehouse, outputs, Dagster history
STATEDATA_MAPPINGS        folder of mapping files (default: the demo college's, connectors/mappings)
STATEDATA_<SYSTEM>_URL    SQLAlchemy URL of a SQL source (named by its mapping file's source.env)
STATEDATA_<SYSTEM>_DIR    drop folder of a file source (likewise)
STATEDATA_SOURCE_RETRIES  retries of an extraction whose source dropped the connection (default 3)
STATEDATA_SOURCE_RETRY_DELAY  seconds before the first retry, doubling each time (default 10)
STATEDATA_FILE_SETTLE_SECONDS  leave dropped files changed more recently than this for the next run (default 0)
STATEDATA_BACKUP_KEEP     warehouse backups kept under STATEDATA_HOME/backups (default 7)
STATEDATA_EQUIPMENT_MIN_UNIT_PRICE  元: overrides the template pack's equipment_min_unit_price
STATEDATA_COLLECTION_MONTHS  months in which the nightly schedule also refreshes the year just completed (default 9-12)
STATEDATA_SCHOOL_TYPE     school type for the indicator thresholds (综合, 工科, 医学 …; default: the indicator file's)

A source whose variable is unset falls back to the demo campus under STATEDATA_HOME/demo.
Values are read when used, never at import time.
"""

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.mapping import SourceSpec

TZ = ZoneInfo("Asia/Shanghai")
FIRST_ACADEMIC_YEAR = 2022  # earliest academic-year partition


@dataclass(frozen=True)
class Settings:
    home: Path
    mappings_dir: Path

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def out_dir(self) -> Path:
        return self.home / "out"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def backups_dir(self) -> Path:
        return self.home / "backups"

    @property
    def finance_items(self) -> Path:
        """The finance office's accounting subject → platform item mapping (finance_items.csv)."""
        return self.mappings_dir / "finance_items.csv"


def template_overrides() -> dict:
    """Template-pack parameters set from the environment."""
    price = os.environ.get("STATEDATA_EQUIPMENT_MIN_UNIT_PRICE")
    if not price:
        return {}
    try:
        return {"equipment_min_unit_price": float(price)}
    except ValueError:
        raise ValueError(f"STATEDATA_EQUIPMENT_MIN_UNIT_PRICE={price!r} is not a number of 元 (e.g. 1000)") from None


def collection_months() -> set[int]:
    """STATEDATA_COLLECTION_MONTHS: when the last completed year's submission is prepared ("9-12", or "9,10")."""
    text = os.environ.get("STATEDATA_COLLECTION_MONTHS", "9-12").strip()
    months = set()
    try:
        for part in filter(None, text.replace(" ", "").split(",")):
            lo, _, hi = part.partition("-")
            months |= set(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise ValueError(f"STATEDATA_COLLECTION_MONTHS={text!r}: expected months such as 9-12 or 9,10") from None
    if not months <= set(range(1, 13)):
        raise ValueError(f"STATEDATA_COLLECTION_MONTHS={text!r}: months are 1 to 12")
    return months


@dataclass(frozen=True)
class TimelinessSettings:
    """When the national collection window opens (month, day of the year after the academic year's start
    year, default 24 September), and how old a source extraction may be before R-SJ-001 warns."""

    opens_month: int = 9
    opens_day: int = 24
    max_source_age_hours: int = 48


def timeliness_settings() -> TimelinessSettings:
    """STATEDATA_COLLECTION_OPENS (MM-DD, default 09-24) and STATEDATA_MAX_SOURCE_AGE_HOURS (default 48)."""
    opens = os.environ.get("STATEDATA_COLLECTION_OPENS", "09-24").strip()
    hours = os.environ.get("STATEDATA_MAX_SOURCE_AGE_HOURS", "48").strip()
    try:
        month, day = (int(x) for x in opens.split("-"))
        date(2000, month, day)
    except ValueError:
        raise ValueError(f"STATEDATA_COLLECTION_OPENS={opens!r}: expected month-day, e.g. 09-24") from None
    if not hours.isdigit():
        raise ValueError(f"STATEDATA_MAX_SOURCE_AGE_HOURS={hours!r}: expected a whole number of hours, e.g. 48")
    return TimelinessSettings(month, day, int(hours))


def digest_settings(home: Path):
    """Where the departments' digests go: STATEDATA_SMTP_HOST (with _PORT, _USER, _PASSWORD, _STARTTLS)
    for mail, else the outbox folder STATEDATA_HOME/outbox. STATEDATA_DIGEST_TO names each department's
    addresses ('人事处=hr@x.edu.cn;教务处=a@x,b@x'), STATEDATA_DIGEST_DEFAULT_TO the others',
    STATEDATA_DIGEST_FROM the sender."""
    from expectations.digest import DigestSettings, parse_recipients

    env = os.environ.get
    port = env("STATEDATA_SMTP_PORT", "25")
    if not port.isdigit():
        raise ValueError(f"STATEDATA_SMTP_PORT={port!r} is not a port number")
    return DigestSettings(
        outbox=home / "outbox",
        sender=env("STATEDATA_DIGEST_FROM", "statedata@localhost"),
        recipients=parse_recipients(env("STATEDATA_DIGEST_TO", "")),
        default_to=[a.strip() for a in env("STATEDATA_DIGEST_DEFAULT_TO", "").split(",") if a.strip()],
        smtp_host=env("STATEDATA_SMTP_HOST") or None,
        smtp_port=int(port),
        smtp_user=env("STATEDATA_SMTP_USER") or None,
        smtp_password=env("STATEDATA_SMTP_PASSWORD") or None,
        smtp_starttls=env("STATEDATA_SMTP_STARTTLS", "0").lower() in ("1", "true", "yes"),
    )


def school_type() -> str | None:
    return os.environ.get("STATEDATA_SCHOOL_TYPE") or None


def file_settle_seconds() -> float:
    """STATEDATA_FILE_SETTLE_SECONDS: a dropped file changed more recently than this is left for the next
    run, as it may still be being copied in (default 0: off; 120 is sensible on a shared folder)."""
    return float(os.environ.get("STATEDATA_FILE_SETTLE_SECONDS", 0))


def backup_keep() -> int:
    """STATEDATA_BACKUP_KEEP: how many warehouse backups to keep (default 7, one a night for a week)."""
    return int(os.environ.get("STATEDATA_BACKUP_KEEP", 7))


def get_settings() -> Settings:
    home = Path(os.environ.get("STATEDATA_HOME") or "data").resolve()
    mappings = os.environ.get("STATEDATA_MAPPINGS")
    mappings_dir = (
        Path(mappings).resolve() if mappings else Path(__file__).resolve().parent.parent / "connectors" / "mappings"
    )
    return Settings(home=home, mappings_dir=mappings_dir)


def source_location(spec: SourceSpec, settings: Settings) -> str:
    """The URL or folder of a source: its environment variable, else the demo default."""
    value = os.environ.get(spec.env)
    if value:
        return value
    if spec.default is None:
        raise RuntimeError(f"source {spec.system}: set {spec.env} (mapping {spec.path} has no demo default)")
    return spec.default.format(demo=settings.demo_dir)


@dataclass(frozen=True)
class RetrySettings:
    """How often an extraction that lost its source is tried again, and after how long (doubling)."""

    retries: int = 3
    delay_s: float = 10.0


def retry_settings() -> RetrySettings:
    """STATEDATA_SOURCE_RETRIES (default 3) and STATEDATA_SOURCE_RETRY_DELAY seconds (default 10)."""
    try:
        return RetrySettings(
            retries=int(os.environ.get("STATEDATA_SOURCE_RETRIES", 3)),
            delay_s=float(os.environ.get("STATEDATA_SOURCE_RETRY_DELAY", 10)),
        )
    except ValueError as e:
        raise RuntimeError(f"STATEDATA_SOURCE_RETRIES / STATEDATA_SOURCE_RETRY_DELAY: {e}") from None


def uses_demo_sources(specs: dict[str, SourceSpec]) -> bool:
    """True when no source is configured in the environment, i.e. every source is the demo campus."""
    return not any(os.environ.get(spec.env) for spec in specs.values())


def academic_year_of(day: date | datetime) -> str:
    """The academic year (1 Sept – 31 Aug) a day falls in, e.g. 2026-11-23 -> '2026-2027'."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def current_academic_year() -> str:
    return academic_year_of(datetime.now(TZ))


def academic_years() -> list[str]:
    """Partition keys: every academic year from FIRST_ACADEMIC_YEAR to the current one."""
    last = int(current_academic_year()[:4])
    return [f"{y}-{y + 1}" for y in range(FIRST_ACADEMIC_YEAR, last + 1)]
