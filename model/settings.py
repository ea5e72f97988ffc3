"""Every setting statedata reads from the environment, read in one place, validated at once.

``Settings.from_env()`` is called by whoever starts the work: a `statedata` command once, the Dagster resource
each time a step or a sensor asks (a few dictionary lookups); everything below receives the object. Nothing
is read at import time. A bad value stops the command or the step with one message that lists every bad
variable: a number out of its range, a malformed list, date, address or SQL URL (its value is never shown: it
may hold a password), a folder that does not exist, a broken college.yaml. A drop folder is checked when its
source is opened; the school type against the indicator file by every command at its start (pipelines/cli/common.py,
which also loads each URL's database driver) and when the indicators are computed.

STATEDATA_HOME            working folder (default ./data): demo sources, warehouse, outputs, Dagster history
STATEDATA_COLLEGE         the college's folder: college.yaml and mappings/ (default: the demo college,
                          demo_campus/college)
STATEDATA_MAPPINGS        folder of mapping files (default: the college folder's mappings/)
STATEDATA_<SYSTEM>_URL    SQLAlchemy URL of a SQL source (named by its mapping file's source.env)
STATEDATA_<SYSTEM>_DIR    drop folder of a file source (likewise)
STATEDATA_SOURCE_RETRIES  retries of an extraction whose source dropped the connection (default 3)
STATEDATA_SOURCE_RETRY_DELAY  seconds before the first retry, doubling each time (default 10)
STATEDATA_FILE_SETTLE_SECONDS  leave dropped files changed more recently than this for the next run (default 0)
STATEDATA_BACKUP_KEEP     warehouse backups kept under STATEDATA_HOME/backups (default 7)
STATEDATA_COMPACT_FREE    % of the warehouse file that is free blocks at which the nightly run compacts it before its
                          backup (default 20; 100: never; `statedata compact` does it on demand)
STATEDATA_EQUIPMENT_MIN_UNIT_PRICE  元: overrides the template pack's equipment_min_unit_price
STATEDATA_COLLECTION_MONTHS  months in which the nightly schedule also refreshes the year just completed (default 9-12)
STATEDATA_COLLECTION_OPENS  month-day the national collection window opens (default 09-24)
STATEDATA_MAX_SOURCE_AGE_HOURS  a source extracted longer ago than this fails R-SJ-001 (default 48)
STATEDATA_MAX_ROW_DROP    % of a source table's rows that may vanish in one load (G-<entity>-volume; default 50)
STATEDATA_RECONCILE_DAYS  a table read incrementally (by its change column) is read whole again, comparing every
                          key and row hash, when its last whole read is older than this (default 7; 0: every run)
STATEDATA_SCHOOL_TYPE     school type for the indicator thresholds (综合, 工科, 医学 …; default: the indicator file's)
STATEDATA_DIGEST_TO / _DEFAULT_TO / _FROM  the departments' digest addresses ('人事处=hr@x.edu.cn;教务处=a@x,b@x')
STATEDATA_SMTP_HOST / _PORT / _USER / _PASSWORD / _STARTTLS  mail the digests (else: the outbox folder)
STATEDATA_CHECK_CONTENTS  1: every table content a run already knew is measured again, and a difference stops it
                          (warehouse/memo.py; a diagnostic, slower: the test suite sets it)

A source falls back to the demo campus under STATEDATA_HOME/demo only while the mapping folder is the demo
college's own; a college's own mapping folder must name every source's location.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from model.mapping import SourceSpec
from model.yamlfile import YAMLError, read_yaml

DEMO_COLLEGE = Path(__file__).resolve().parent.parent / "demo_campus" / "college"
DEMO_MAPPINGS = DEMO_COLLEGE / "mappings"


# the 数据源表 the colleges' rules name (HR's staff list, academic affairs' majors and courses, the student list):
# every other table refers to their keys, so they are due before collection opens (docs/portal.md, calendar)
SOURCE_TABLES = ("staff", "major", "course", "student")


@dataclass(frozen=True)
class College:
    """A college's own configuration (<college folder>/college.yaml): who it is and who answers for what."""

    name: str = ""
    school_type: str | None = None
    collection_opens: str | None = None
    default_owner: str = "质量管理办公室"
    owners: dict[str, str] = field(default_factory=dict)  # core table -> department
    departments: dict[str, str] = field(default_factory=dict)  # the usual name (rules, templates) -> the college's
    source_tables: tuple[str, ...] = SOURCE_TABLES  # canonical entities due 5 working days before collection opens

    def owner(self, table: str) -> str:
        return self.department(self.owners.get(table, self.default_owner))

    def department(self, usual: str) -> str:
        """The college's own name of a department the rules and templates call by its usual name (学生工作处 may be
        学生处 here)."""
        return self.departments.get(usual, usual)


_COLLEGE_KEYS = {"name", "school_type", "collection_opens", "default_owner", "owners", "departments", "source_tables"}


def load_college(folder: Path, problems: list[str]) -> College:
    """college.yaml of a college folder (absent: every default); a bad file adds to ``problems``."""
    path = folder / "college.yaml"
    if not path.exists():
        return College()
    try:
        raw = read_yaml(path) or {}
    except YAMLError as e:
        problems.append(f"{path}: not valid YAML: {e}")
        return College()
    if not isinstance(raw, dict):
        problems.append(f"{path}: expected key: value pairs ({', '.join(sorted(_COLLEGE_KEYS))}), not a {_kind(raw)}")
        return College()
    bad = []
    if set(raw) - _COLLEGE_KEYS:
        bad.append(f"unknown key(s) {', '.join(sorted(map(str, set(raw) - _COLLEGE_KEYS)))}")
    owners, departments = raw.get("owners") or {}, raw.get("departments") or {}
    if not isinstance(owners, dict):
        bad.append(f"owners: expected table: department pairs, not a {_kind(owners)}")
    if not isinstance(departments, dict):
        bad.append(f"departments: expected usual name: college's name pairs, not a {_kind(departments)}")
    for key in ("name", "school_type", "collection_opens", "default_owner"):
        if isinstance(raw.get(key), (dict, list)):
            bad.append(f"{key}: expected text, not a {_kind(raw[key])}")
    sources = raw.get("source_tables", list(SOURCE_TABLES))
    if not isinstance(sources, list) or not all(isinstance(x, str) for x in sources):
        bad.append(f"source_tables: expected a list of canonical entities, e.g. [staff, student], not {sources!r}")
    if bad:
        problems.append(f"{path}: {'; '.join(bad)} (keys: {', '.join(sorted(_COLLEGE_KEYS))})")
        return College()
    return College(
        name=str(raw.get("name", "")),
        school_type=None if raw.get("school_type") is None else str(raw["school_type"]),
        collection_opens=None if raw.get("collection_opens") is None else str(raw["collection_opens"]),
        default_owner=str(raw.get("default_owner", "质量管理办公室")),
        owners={str(k): str(v) for k, v in owners.items()},
        departments={str(k): str(v) for k, v in departments.items()},
        source_tables=tuple(sources),
    )


def _kind(value) -> str:
    return {dict: "mapping", list: "list"}.get(type(value), type(value).__name__)


class SettingsError(ValueError):
    """One or more settings variables hold a value statedata cannot use; the message lists them all."""


@dataclass(frozen=True)
class DigestSettings:
    """Where the departments' digests go: SMTP when a host is set, else the outbox folder."""

    outbox: Path
    sender: str = "statedata@localhost"
    recipients: dict[str, list[str]] = field(default_factory=dict)  # department -> addresses
    default_to: list[str] = field(default_factory=list)  # a department without its own addresses
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)  # a secret: never printed
    smtp_starttls: bool = False

    @property
    def channel(self) -> str:
        return f"smtp://{self.smtp_host}:{self.smtp_port}" if self.smtp_host else f"outbox {self.outbox}"


@dataclass(frozen=True)
class Settings:
    home: Path
    mappings_dir: Path
    college_dir: Path = DEMO_COLLEGE
    college: College = field(default_factory=College)
    source_retries: int = 3
    source_retry_delay_s: float = 10.0
    file_settle_seconds: float = 0.0
    backup_keep: int = 7
    compact_free: float = 0.2  # share of the warehouse file's blocks that are free at which a run compacts it
    template_overrides: dict = field(default_factory=dict)  # template-pack parameters set by the environment
    collection_months: frozenset[int] = frozenset(range(9, 13))
    collection_opens: tuple[int, int] = (9, 24)  # month, day
    max_source_age_hours: int = 48
    max_row_drop: float = 0.5  # share of a source table's current rows that may vanish in one load
    reconcile_days: float = 7.0  # an incrementally read table is read whole when its last whole read is older
    school_type: str | None = None
    digest: DigestSettings | None = None
    # the source locations named by the environment (URLs may carry passwords: never printed)
    locations: Mapping[str, str] = field(default_factory=dict, repr=False)

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

    @property
    def demo_college(self) -> bool:
        """True while the mapping folder is the demo college's own."""
        return self.mappings_dir == DEMO_MAPPINGS

    def source_location(self, spec: SourceSpec) -> str:
        """The URL or folder of a source: its environment variable; the demo campus for the demo college."""
        value = self.locations.get(spec.env)
        if value and spec.kind == "files" and not Path(value).is_dir():
            raise SettingsError(f"source {spec.system}: {spec.env}={value!r}: no such folder (its drop folder)")
        if value:
            return value
        if spec.default is None or not self.demo_college:
            raise SettingsError(f"source {spec.system}: set {spec.env} (the mapping {spec.path} reads it)")
        return spec.default.format(demo=self.demo_dir)

    def uses_demo_sources(self, specs: dict[str, SourceSpec]) -> bool:
        """True when every source is the demo campus (none is set in the environment)."""
        return self.demo_college and not any(self.locations.get(spec.env) for spec in specs.values())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, home: str | Path | None = None) -> "Settings":
        """The settings of this process (``env``: os.environ unless given; ``home`` overrides STATEDATA_HOME).
        Raises SettingsError naming every variable whose value is unusable."""
        env = os.environ if env is None else env
        problems: list[str] = []

        def get(name: str, default: str = "") -> str:
            return (env.get(name) or default).strip()

        def number(name: str, default: str, kind=int, low: float = 0, example: str = "", high: float | None = None):
            text = get(name, default)
            try:
                value = kind(text)
                if not value >= low or value == float("inf") or (high is not None and value > high):  # nan and inf
                    raise ValueError
                return value
            except ValueError:
                what = "a whole number" if kind is int else "a number"
                bounds = f"of at least {low:g}" if high is None else f"from {low:g} to {high:g}"
                problems.append(f"{name}={text!r}: expected {what} {bounds}{example}")
                return kind(default)

        def addresses(name: str, text: str) -> list[str]:
            found = [a.strip() for a in text.split(",") if a.strip()]
            problems.extend(f"{name}: {a!r} is not a mail address (name@host)" for a in found if not _ADDRESS.match(a))
            return found

        home_dir = Path(home or get("STATEDATA_HOME") or "data").resolve()
        blocker = next((p for p in (home_dir, *home_dir.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():  # the working folder cannot be made
            problems.append(f"working folder {home_dir} (STATEDATA_HOME or --home): {blocker} is a file, not a folder")
        college_text = get("STATEDATA_COLLEGE")
        college_dir = Path(college_text).resolve() if college_text else DEMO_COLLEGE
        if college_text and not college_dir.is_dir():
            problems.append(f"STATEDATA_COLLEGE={college_text!r}: no such folder")
        college = load_college(college_dir, problems)
        mappings = get("STATEDATA_MAPPINGS")
        mappings_dir = Path(mappings).resolve() if mappings else college_dir / "mappings"
        if mappings and not mappings_dir.is_dir():
            problems.append(f"STATEDATA_MAPPINGS={mappings!r}: no such folder")

        overrides = {}
        if get("STATEDATA_EQUIPMENT_MIN_UNIT_PRICE"):
            overrides["equipment_min_unit_price"] = number(
                "STATEDATA_EQUIPMENT_MIN_UNIT_PRICE", "0", float, example=" 元, e.g. 1000"
            )

        months = _months(get("STATEDATA_COLLECTION_MONTHS", "9-12"), problems)
        opens = get("STATEDATA_COLLECTION_OPENS", college.collection_opens or "09-24")
        try:
            month, day = (int(x) for x in opens.split("-"))
            date(2000, month, day)
        except ValueError:
            where = "STATEDATA_COLLECTION_OPENS"
            if not get(where):
                where = f"{college_dir / 'college.yaml'} collection_opens"
            problems.append(f"{where}={opens!r}: expected month-day, e.g. 09-24")
            month, day = 9, 24

        try:
            recipients = parse_recipients(get("STATEDATA_DIGEST_TO"))
        except ValueError as e:
            problems.append(str(e))
            recipients = {}
        for found in recipients.values():
            addresses("STATEDATA_DIGEST_TO", ",".join(found))
        if not _ADDRESS.match(get("STATEDATA_DIGEST_FROM", "statedata@localhost")):
            problems.append(
                f"STATEDATA_DIGEST_FROM: {get('STATEDATA_DIGEST_FROM')!r} is not a mail address (name@host)"
            )
        starttls = get("STATEDATA_SMTP_STARTTLS", "0").lower()
        if starttls not in _YES + _NO:
            problems.append(f"STATEDATA_SMTP_STARTTLS={starttls!r}: expected 1 or 0 (true/false, yes/no)")
        digest = DigestSettings(
            outbox=home_dir / "outbox",
            sender=get("STATEDATA_DIGEST_FROM", "statedata@localhost"),
            recipients=recipients,
            default_to=addresses("STATEDATA_DIGEST_DEFAULT_TO", get("STATEDATA_DIGEST_DEFAULT_TO")),
            smtp_host=get("STATEDATA_SMTP_HOST") or None,
            smtp_port=number("STATEDATA_SMTP_PORT", "25", low=1, high=65535, example=" (a port)"),
            smtp_user=get("STATEDATA_SMTP_USER") or None,
            smtp_password=env.get("STATEDATA_SMTP_PASSWORD") or None,
            smtp_starttls=starttls in _YES,
        )
        locations = {k: v for k, v in env.items() if k.startswith("STATEDATA_") and k.endswith(("_URL", "_DIR"))}
        problems += [p for name, url in locations.items() if name.endswith("_URL") and (p := _url_problem(name, url))]
        settings = cls(
            home=home_dir,
            mappings_dir=mappings_dir,
            college_dir=college_dir,
            college=college,
            source_retries=number("STATEDATA_SOURCE_RETRIES", "3"),
            source_retry_delay_s=number("STATEDATA_SOURCE_RETRY_DELAY", "10", float, example=" seconds"),
            file_settle_seconds=number("STATEDATA_FILE_SETTLE_SECONDS", "0", float, example=" seconds"),
            backup_keep=number("STATEDATA_BACKUP_KEEP", "7", low=1),
            compact_free=number("STATEDATA_COMPACT_FREE", "20", float, high=100, example=" %, e.g. 20") / 100,
            template_overrides=overrides,
            collection_months=months,
            collection_opens=(month, day),
            max_source_age_hours=number("STATEDATA_MAX_SOURCE_AGE_HOURS", "48", example=" hours"),
            max_row_drop=number("STATEDATA_MAX_ROW_DROP", "50", float, high=100, example=" %, e.g. 50") / 100,
            reconcile_days=number("STATEDATA_RECONCILE_DAYS", "7", float, example=" days"),
            school_type=get("STATEDATA_SCHOOL_TYPE") or college.school_type or None,
            digest=digest,
            locations=locations,
        )
        if problems:
            raise SettingsError("bad settings in the environment:\n  " + "\n  ".join(problems))
        return settings


_ADDRESS = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\Z")
_YES, _NO = ("1", "true", "yes"), ("0", "false", "no")
_URL_EXAMPLE = "postgresql://etl@hr-db/hr"


def check_contents() -> bool:
    """STATEDATA_CHECK_CONTENTS: read when a content is served (warehouse/memo.py), not at a command's start."""
    return os.environ.get("STATEDATA_CHECK_CONTENTS") == "1"


def _url_problem(name: str, url: str) -> str | None:
    """What is wrong with the form of a source's SQLAlchemy URL (dialect[+driver]://user:password@host:port/db),
    without showing it: it may hold a password. The user information ends at the last @ (connectors/sql.py
    reads it so), so a password may hold any character."""
    if not url.strip():
        return None
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z]\w*(\+\w+)?", scheme):
        return f"{name}: not a SQLAlchemy URL; expected dialect://user:password@host/database, e.g. {_URL_EXAMPLE}"
    host = rest.rpartition("@")[2].split("/", 1)[0].split("?", 1)[0]
    port = host.rpartition(":")[2] if ":" in host.rpartition("]")[2] else ""
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        return f"{name}: port {port!r} of {host.rpartition(':')[0]} is not a number from 1 to 65535"
    return None


def _months(text: str, problems: list[str]) -> frozenset[int]:
    """'9-12' or '9,10' -> the months."""
    months = set()
    try:
        for part in filter(None, text.replace(" ", "").split(",")):
            lo, _, hi = part.partition("-")
            if int(hi or lo) < int(lo):  # 12-9: no month at all
                raise ValueError
            months |= set(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        problems.append(f"STATEDATA_COLLECTION_MONTHS={text!r}: expected months such as 9-12 or 9,10")
        return frozenset(range(9, 13))
    if not months <= set(range(1, 13)):
        problems.append(f"STATEDATA_COLLECTION_MONTHS={text!r}: months are 1 to 12")
        return frozenset(range(9, 13))
    return frozenset(months)


def parse_recipients(text: str) -> dict[str, list[str]]:
    """'人事处=hr@x.edu.cn;教务处=a@x.edu.cn,b@x.edu.cn' -> {department: [addresses]}."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        dept, sep, addresses = part.partition("=")
        if not sep or not dept.strip():
            raise ValueError(f"STATEDATA_DIGEST_TO: {part!r} is not 部门=address[,address]")
        out[dept.strip()] = [a.strip() for a in addresses.split(",") if a.strip()]
    return out
