"""What a run read, so that a night on which nothing changed is not computed again.

Before a run every input is fingerprinted (``inputs``): each source table by its client's probe (``Source.probe``:
the files' SHA-256, a SQLite file's, a server-side row hash), the college's folder (college.yaml, mappings,
views), statedata's own code and the libraries installed, and every setting that shapes what a run writes. After
a run that succeeded the fingerprint is kept with what the run left (``remember``): its summary with every output
file's SHA-256, and in the warehouse's ledger the file's size and modification time. The next run of the same
year finds out (``unchanged``) whether all of it is still so; if it is, there is nothing to recompute, re-check
or re-export (``statedata run`` re-evaluates only the rules that read the clock). Any difference, any input that
cannot be fingerprinted, a write to the warehouse by anything but a recorded run on the same inputs, an output
file changed or removed: the run is a whole run, and the reasons are given.

The records are JSON files under STATEDATA_HOME/state: one per academic year, and the ledger. They hold hashes
and the redacted locations, never a password.
"""

import hashlib
import json
import os
import sys
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from connectors.base import SourceError, file_sha256
from connectors.sources import open_source
from model.mapping import SourceSpec
from model.settings import Settings, SettingsError
from warehouse.db import file_stamp

# statedata's packages (pyproject.toml's root_packages): every file in them is an input of every run
PACKAGES = (
    "model", "connectors", "warehouse", "reporting", "expectations", "departments", "assets", "pipelines",
    "demo_campus", "analysis", "portal",
)  # fmt: skip
ROOT = Path(__file__).resolve().parent.parent
# settings that do not change what a run writes: retries, backups kept, when the file is compacted, the schedule's
# months, mail; the source locations are part of each source's fingerprint (redacted)
NOT_INPUTS = {
    "source_retries",
    "source_retry_delay_s",
    "backup_keep",
    "compact_free",
    "collection_months",
    "digest",
    "locations",
}
CODE, COLLEGE, SETTINGS = "statedata's code and libraries", "the college folder", "the settings"


@dataclass(frozen=True)
class Inputs:
    """The fingerprints of one run's inputs: part -> fingerprint, or None with the reason in ``unknown``."""

    academic_year: str
    parts: dict[str, str | None]
    unknown: dict[str, str]
    locations: dict[str, str]  # source system -> where it was probed (redacted: no password)

    @property
    def fingerprint(self) -> str | None:
        """One fingerprint of every part; None while a part has none (such a run is never skipped)."""
        if self.unknown:
            return None
        return hashlib.sha256(json.dumps(sorted(self.parts.items())).encode()).hexdigest()


def inputs(settings: Settings, specs: dict[str, SourceSpec], academic_year: str) -> Inputs:
    """Fingerprint everything a run of the year would read. A source that cannot be probed (unreachable, a file
    still being written, a database without a row hash) is unknown, with why: never an error here, the run that
    follows reads it and reports properly."""
    parts: dict[str, str | None] = {
        CODE: _code(),
        COLLEGE: _folder(settings.college_dir, settings.mappings_dir),
        SETTINGS: _settings(settings),
    }
    unknown: dict[str, str] = {}
    locations: dict[str, str] = {}
    for spec in specs.values():
        try:
            source = open_source(spec, settings.source_location(spec), settings.file_settle_seconds)
        except (SettingsError, SourceError) as e:
            for entity in spec.entities.values():
                parts[_name(spec, entity)], unknown[_name(spec, entity)] = None, str(e)
            continue
        locations[spec.system] = source.location
        try:
            for entity in spec.entities.values():
                name = _name(spec, entity)
                try:
                    probe = source.probe(entity)
                except SourceError as e:
                    probe, unknown[name] = None, str(e)
                if probe is None:
                    unknown.setdefault(name, _why_unknown(spec, source.location, entity.files))
                parts[name] = None if probe is None else f"{source.location}|{probe}"
        finally:
            source.close()
    return Inputs(academic_year, parts, unknown, locations)


def _name(spec: SourceSpec, entity) -> str:
    return f"source {spec.system}.{entity.source_name}"


def _why_unknown(spec: SourceSpec, location: str, files: str | None) -> str:
    if spec.kind == "files":
        return f"a file matching {files} is still being written or is open in Excel"
    return f"a {location.split(':', 1)[0]} database cannot tell its changes cheaply: read every run"


def _code() -> str:
    """Every file of statedata's packages, and the name and version of every installed distribution."""
    h = _files(ROOT, [ROOT / package for package in PACKAGES])
    for dist in _distributions():
        h.update(f"{dist}\n".encode())
    return h.hexdigest()


def _distributions() -> list[str]:
    """The installed distributions as their metadata folders name them (``pandas-2.2.3.dist-info``): name and
    version, read from the folder listings of the import path (parsing each one's metadata costs 0.4 s)."""
    found = set()
    for entry in sys.path:
        if Path(entry or ".").resolve() == ROOT:  # the source folder (run from there): its files are hashed above
            continue
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip, or a folder that is not there
            continue
        found.update(n for n in names if n.endswith((".dist-info", ".egg-info")))
    return sorted(found)


def _folder(*folders: Path) -> str:
    return _files(Path("/"), [Path(f).resolve() for f in dict.fromkeys(folders)]).hexdigest()


def _files(root: Path, folders: list[Path]):
    """A SHA-256 over every file below the folders: its path (from ``root``) and its content's SHA-256."""
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(f"{path.relative_to(root).as_posix()}\x1f{file_sha256(path)}\n".encode())
    return h


def _settings(settings: Settings) -> str:
    shaping = {f.name: repr(getattr(settings, f.name)) for f in fields(settings) if f.name not in NOT_INPUTS}
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()


# -- the record of the last run ----------------------------------------------------------------------------------
def state_path(settings: Settings, academic_year: str) -> Path:
    return settings.home / "state" / f"run_{academic_year}.json"


def contents_path(settings: Settings) -> Path:
    """What the last run (or night with nothing changed) knew of the warehouse's table contents (warehouse/memo.py)."""
    return settings.home / "state" / "contents.json"


def warehouse_stamp(settings: Settings) -> list[int] | None:
    """The warehouse file's size and modification time (warehouse/db.py file_stamp)."""
    return file_stamp(settings.warehouse)


def remember(settings: Settings, current: Inputs, summary: dict) -> None:
    """After a run that succeeded (or a skipped one, which wrote its confirmations): keep the inputs' fingerprint
    with the year's summary, and in the warehouse's ledger its new stamp and the inputs its content now reflects.
    Inputs without a fingerprint forget both: there is nothing to compare with."""
    path, ledger = state_path(settings, current.academic_year), _ledger(settings)
    if current.fingerprint is None:
        path.unlink(missing_ok=True)
        ledger.unlink(missing_ok=True)
        return
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _write(path, {"fingerprint": current.fingerprint, "parts": current.parts, "recorded_at": now, "summary": summary})
    _write(ledger, {"stamp": warehouse_stamp(settings), "fingerprint": current.fingerprint, "recorded_at": now,
                    "academic_year": current.academic_year, "parts": current.parts})  # fmt: skip


def restamp(settings: Settings, before: list[int] | None, after: list[int] | None) -> None:
    """The warehouse file was written anew with the same contents (warehouse/compact.py): what the ledger and the
    contents' record say of it as it was (``before``) holds for it as it is (``after``)."""
    for path in (_ledger(settings), contents_path(settings)):
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if before is not None and recorded.get("stamp") == before:
            _write(path, recorded | {"stamp": after})


def _ledger(settings: Settings) -> Path:
    """The warehouse's ledger: its stamp after the last run that recorded its inputs, and their fingerprint. Every
    year's record relies on it: a run of another year on the same inputs leaves a year's tables as they were (the
    shared layers are rebuilt alike, the platform tables and rule results of other years are not touched)."""
    return settings.home / "state" / "warehouse.json"


def as_recorded(settings: Settings, ledger: dict | None = None) -> bool:
    """Whether the warehouse file is as the last run that recorded its inputs left it (its stamp in the ledger, read
    here unless given)."""
    try:
        stamp = (ledger or json.loads(_ledger(settings).read_text(encoding="utf-8"))).get("stamp")
    except (OSError, ValueError, AttributeError):
        return False
    return stamp is not None and warehouse_stamp(settings) == stamp


def _reusable_parts(settings: Settings, current: Inputs) -> dict | None:
    """The parts the warehouse's content reflects, when what it holds may be kept in this run: it is as the last
    recorded run left it, and that run had the same code, college folder and settings. Else None."""
    try:
        ledger = json.loads(_ledger(settings).read_text(encoding="utf-8"))
        parts = ledger["parts"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not as_recorded(settings, ledger):
        return None
    if any(current.parts[k] is None or current.parts[k] != parts.get(k) for k in (CODE, COLLEGE, SETTINGS)):
        return None
    return parts


def reusable(settings: Settings, current: Inputs) -> bool:
    """True when a run may keep what the warehouse holds where its inputs are unchanged (warehouse/builds.py, the
    rule results bound to their tables): the warehouse is as the last recorded run left it, with the same code,
    college folder and settings."""
    return _reusable_parts(settings, current) is not None


def unchanged_systems(settings: Settings, current: Inputs) -> set[str]:
    """The source systems with nothing to read: the warehouse may be kept (``reusable``) and every table of the
    system probes as it did at the last recorded run. (A run in which another system changed reads only that
    one.)"""
    parts = _reusable_parts(settings, current)
    if parts is None:
        return set()
    changed = {_system(n) for n, v in current.parts.items() if n.startswith("source ") and (v is None or
               v != parts.get(n))}  # fmt: skip
    return set(current.locations) - changed


def _system(part: str) -> str:
    return part.removeprefix("source ").split(".", 1)[0]


def _write(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def unchanged(settings: Settings, current: Inputs) -> tuple[dict | None, list[str]]:
    """The record of the year's last run when everything it read and left is as it was (its outputs can be kept),
    else None and every reason why not."""
    path = state_path(settings, current.academic_year)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        parts, summary = record["parts"], record["summary"]
        ledger = json.loads(_ledger(settings).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [f"no earlier completed run of {current.academic_year} on record"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        return None, [f"the record of the last run ({path.parent}) cannot be read: {e}"]
    reasons = [f"{name}: {why}" for name, why in current.unknown.items()]
    for name, value in current.parts.items():  # in order: the code, the college folder, the settings, each source
        if name not in parts:
            reasons.append(f"{name} is read for the first time")
        elif value not in (None, parts[name]):
            reasons.append(f"{name} changed")
    reasons += [f"{name} is no longer read" for name in parts if name not in current.parts]
    if not as_recorded(settings, ledger):
        reasons.append("the warehouse was written since the last run of statedata run (by a run that failed, one "
                       "the Dagster UI or schedule started, a restore, or by hand)")  # fmt: skip
    elif current.fingerprint is not None and ledger.get("fingerprint") != current.fingerprint and not reasons:
        reasons.append(f"the run of {ledger.get('academic_year')} at {ledger.get('recorded_at')} read other inputs")
    for f in summary.get("files", []):
        if not Path(f["path"]).is_file() or file_sha256(Path(f["path"])) != f["sha256"]:
            reasons.append(f"the output {f['path']} was changed or removed")
    return (record, []) if not reasons else (None, reasons)
