"""The submission package: one folder with every national table of the year's template pack, the
核心数据复核清单 and a manifest, and a zip of those files (inside the folder, and shown beside it).

The manifest lists each file with its row count and SHA-256 (and, for a department form, who filled
it, when, in which file), the template pack and its version, the
version of the national code lists, the software version and the warehouse snapshot the files were
built from. Nothing in the package depends on the clock: building it twice from the same snapshot
gives byte-identical files and zip.
"""

import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb

from connectors.base import file_sha256 as sha256
from model.codes import CODES_DIR, code_table_names
from reporting.export import write_table
from reporting.publish import publish
from reporting.review_list import FILE_NAME as REVIEW_FILE
from reporting.review_list import write_review_list
from reporting.templates import TemplatePack
from reporting.workbook import school_of
from warehouse.db import qualified

MANIFEST = "manifest.json"
EVIDENCE_DIR = "佐证材料"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class PackageError(RuntimeError):
    pass


@dataclass
class Package:
    folder: Path
    zip_path: Path
    manifest: dict


def code_lists_version() -> str:
    h = hashlib.sha256()
    for t in code_table_names():
        h.update(t.encode() + b"\0" + (CODES_DIR / f"{t}.csv").read_bytes())
    return h.hexdigest()[:12]


def software_version() -> str:
    try:
        return version("statedata")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown"


def snapshot_id(con: duckdb.DuckDBPyConnection) -> str:
    """The warehouse state the tables were built from: the latest committed batch of every system, with
    when it started (so two warehouses that numbered their batches alike still differ).
    ``b<newest batch>-<hash of every system's latest batch and its start time>``."""
    rows = con.execute(
        """select system, batch_id, strftime(started_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')
           from audit.batch where status = 'committed'
           qualify row_number() over (partition by system order by batch_id desc) = 1
           order by system"""
    ).fetchall()
    if not rows:
        raise PackageError("the warehouse has no committed extraction batch: run `statedata run` first")
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:12]
    return f"b{max(b for _, b, _ in rows)}-{digest}"


def build_package(
    con: duckdb.DuckDBPyConnection,
    pack: TemplatePack,
    academic_year: str,
    out_dir: Path,
    blocking: list[str] | None = None,
    review: dict | None = None,
    evidence: dict[str, Path] | None = None,
) -> Package:
    """``blocking``: the failing error rules a draft is built despite; the draft is named ``…_draft``
    and its manifest says so, so that it never replaces or passes for the last good package. ``review``: the
    review portal's record for the manifest (signatures, waivers, evidence); ``evidence``: files to include
    under 佐证材料/ (name in the package -> file)."""
    school = school_of(con, academic_year)
    if not school:
        raise PackageError(
            f"the warehouse holds no national tables for {academic_year}: "
            f"run `statedata run --year {academic_year}` first"
        )
    code, name = school
    stem = f"{code}_{academic_year}" + ("_draft" if blocking else "")
    out_dir = Path(out_dir)
    zip_name = f"{stem}.zip"

    def fill(tmp: Path) -> dict:
        files = []
        for t in pack.ordered_tables():
            rows = write_table(con, t, academic_year, tmp / t.file_name)
            filled = _filled(con, t.source_table, academic_year) if t.form else None
            files.append(
                dict(
                    file=t.file_name,
                    number=t.number,
                    name=t.name,
                    owner=t.owner,
                    period=t.period,
                    rows=rows,
                    sha256=sha256(tmp / t.file_name),
                )
                | ({"filled": filled} if filled is not None else {})
            )
        rows = write_review_list(con, academic_year, tmp / REVIEW_FILE, blocking)
        files.append(
            dict(
                file=REVIEW_FILE,
                number="",
                name="核心数据复核清单",
                owner="质量管理办公室",
                period="stock",
                rows=rows,
                sha256=sha256(tmp / REVIEW_FILE),
            )
        )
        manifest = (
            ({"draft": True, "blocking_rules": blocking} if blocking else {})
            | dict(
                school_code=code,
                school_name=name,
                academic_year=academic_year,
                template_pack=dict(pack=pack.pack, version=pack.version, title=pack.title),
                code_lists_version=code_lists_version(),
                software=dict(name="statedata", version=software_version()),
                warehouse_snapshot=snapshot_id(con),
                files=files,
            )
            | ({"review": review} if review is not None else {})
        )
        for file_name, source in sorted((evidence or {}).items()):
            (tmp / EVIDENCE_DIR).mkdir(exist_ok=True)
            shutil.copyfile(source, tmp / EVIDENCE_DIR / file_name)
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        _zip(tmp, tmp / zip_name, stem)  # inside the folder, so that one rename publishes both
        return manifest

    manifest = publish(out_dir, stem, fill, zip_name=zip_name)
    return Package(out_dir / stem, out_dir / zip_name, manifest)


def _filled(con: duckdb.DuckDBPyConnection, table: str, academic_year: str) -> list[dict]:
    """Who filled a department form, when, and in which file (recorded with every row loaded from it)."""
    rows = con.execute(
        f"select distinct filled_by, filled_on, _source_file from {qualified('platform', table)} "
        "where academic_year = ? order by all",
        [academic_year],
    ).fetchall()
    return [dict(by=by, on=on, file=f) for by, on, f in rows]


def _zip(folder: Path, path: Path, prefix: str) -> None:
    """A zip of the folder's files (not of itself) with fixed entry times and permissions, entries in name
    order: the same files, the same bytes."""
    files = sorted(f for f in folder.rglob("*") if f.is_file() and f != path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for f in files:
            info = zipfile.ZipInfo(f"{prefix}/{f.relative_to(folder).as_posix()}", date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.flag_bits |= 0x800  # UTF-8 names (Chinese file names)
            z.writestr(info, f.read_bytes())
