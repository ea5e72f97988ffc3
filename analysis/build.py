"""Writing the reports: the college report and one per department (or one department's), as .docx and .html, and
report_manifest.json beside them: the warehouse snapshot they were drafted from, the year, every file with its
SHA-256 and charts, and the figures (indicator values, area figures) and failing rules the next draft compares with.

"What changed since the last draft": the manifest found in the output folder is the last draft. A rebuild from the
same state of the data (same snapshot, figures and failing rules) compares with what that draft compared with, so
that rebuilding gives byte-identical files; a build from a new state compares with the last draft itself.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analysis import benchmarks as bm
from analysis import charts, content
from analysis.content import College, Setup
from analysis.document import Document, college_document, department_document
from analysis.docx import to_docx
from analysis.html import to_html
from connectors.base import file_sha256
from reporting.package import software_version

MANIFEST = "report_manifest.json"
FORMATS = ("docx", "html")
COLLEGE = "学校"


@dataclass
class Built:
    folder: Path
    files: list[Path]
    manifest: dict
    changes: dict


def stem(c: College, dept: str | None) -> str:
    return f"{c.school_code}_{c.academic_year}_{dept or COLLEGE}_数据分析报告"


def failing_detail(c: College) -> dict[str, dict]:
    return {r.id: {"owner": r.owner, "failing": r.failing} for r in c.rules}


def state_of(academic_year: str, snapshot: str, figures: dict, failing: dict) -> str:
    """What a draft says, as one hash: the year, the snapshot, the figures and the failing rules."""
    doc = json.dumps([academic_year, snapshot, figures, failing], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(doc.encode()).hexdigest()[:16]


def baseline(previous: dict | None, academic_year: str, state: str) -> dict | None:
    """What this draft compares with: the last draft (``previous``, its manifest), or, when this build repeats
    that draft's state, what the last draft compared with; None for the year's first draft."""
    if not previous or previous.get("academic_year") != academic_year:
        return None
    if previous.get("state") == state:
        return previous.get("baseline")
    return {k: previous.get(k) for k in ("state", "warehouse_snapshot", "data_as_of", "figures", "failing_rules")}


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))


def change_list(base: dict | None, figures: dict, failing: dict[str, dict]) -> dict:
    """The figures that changed (old -> new) and the rules newly failing, newly passing, or failing with another
    count, against ``base`` (a baseline); ``{"first": True}`` without one."""
    if base is None:
        return {"first": True}
    out = {
        "first": False,
        "since": base.get("warehouse_snapshot"),
        "since_as_of": (base.get("data_as_of") or "")[:16].replace("T", " ") or None,
        "figures": [],
        "newly_failing": [],
        "newly_passing": [],
        "count_changed": [],
    }
    for kind, key in (("indicator", "indicators"), ("figure", "figures")):
        old, new = (base.get("figures") or {}).get(key) or {}, figures.get(key) or {}
        for name in [*new, *(n for n in old if n not in new)]:
            if not _same(old.get(name), new.get(name)):
                out["figures"].append({"kind": kind, "name": name, "old": old.get(name), "new": new.get(name)})
    before = base.get("failing_rules") or {}
    for rule_id in sorted(set(failing) | set(before)):
        now, was = failing.get(rule_id), before.get(rule_id)
        if now and not was:
            out["newly_failing"].append({"id": rule_id, "owner": now["owner"], "failing": now["failing"]})
        elif was and not now:
            out["newly_passing"].append({"id": rule_id, "owner": was["owner"], "failing": was["failing"]})
        elif now["failing"] != was["failing"]:
            out["count_changed"].append(
                {"id": rule_id, "owner": now["owner"], "old": was["failing"], "new": now["failing"]}
            )
    return out


def read_manifest(folder: Path) -> dict | None:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None  # a damaged manifest: this draft is treated as the first


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def build(
    con: duckdb.DuckDBPyConnection,
    academic_year: str,
    setup: Setup,
    out_dir: Path,
    formats: tuple[str, ...] = FORMATS,
    dept: str | None = None,
) -> Built:
    """The college report and every department's (or only ``dept``'s), in ``formats``, into ``out_dir``."""
    c = content.college(con, academic_year, setup)
    departments = [dept] if dept else c.departments
    if dept and dept not in c.departments:
        raise content.ContentError(
            f"no national table or rule is owned by {dept!r}; departments: {', '.join(c.departments)}"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures, failing = c.figures(), failing_detail(c)
    state = state_of(academic_year, c.snapshot, figures, failing)
    base = baseline(read_manifest(out_dir), academic_year, state)
    changes = change_list(base, figures, failing)

    docs: list[tuple[str | None, Document]] = [] if dept else [(None, college_document(c, changes))]
    for d in departments:
        docs.append((d, department_document(content.department(con, academic_year, d, setup, c), changes)))
    images: dict = {}
    for _, doc in docs:
        for f in doc.figures():
            if f.chart not in images:
                images[f.chart] = charts.render(f.chart)

    files, entries = [], []
    for who, doc in docs:
        for fmt in formats:
            data = to_docx(doc, images, c.as_of, c.snapshot) if fmt == "docx" else to_html(doc, images).encode("utf-8")
            path = out_dir / f"{stem(c, who)}.{fmt}"
            _write(path, data)
            files.append(path)
            entries.append(
                dict(
                    file=path.name,
                    report=who or COLLEGE,
                    format=fmt,
                    sha256=hashlib.sha256(data).hexdigest(),
                    charts=[f.chart.title for f in doc.figures()],
                    traces=len(doc.traces),
                )
            )
    bench = Path(bm.SAMPLE if c.benchmark_file == "analysis/benchmarks_sample.csv" else c.benchmark_file)
    manifest = dict(
        report="人才培养工作状态数据分析报告",
        school_code=c.school_code,
        school_name=c.school_name,
        academic_year=academic_year,
        years=c.years,
        draft=c.status.draft,
        signed_off=c.status.signed,
        blocking_rules=[r for r, _, _ in c.status.blocking],
        warehouse_snapshot=c.snapshot,
        data_as_of=c.as_of.isoformat(),
        template_pack=c.pack,
        school_type=c.school_type,
        benchmarks=dict(file=c.benchmark_file, sample=c.benchmark_sample, sha256=file_sha256(bench)),
        chart_font=charts.cjk_font(),
        software=dict(name="statedata", version=software_version()),
        files=entries,
        figures=figures,
        failing_rules=failing,
        state=state,
        baseline=base,
        changes=changes,
    )
    _write(out_dir / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return Built(out_dir, files, manifest, changes)
