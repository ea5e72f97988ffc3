"""`statedata doctor`: a college's mapping folder checked against the canonical model and its live sources,
before any run, every problem at once.

It works on a scratch warehouse in a temporary folder, never on the college's own: each source is read as a
run would read it, loaded into raw, staged (expressions, translations, "latest wins") and united into the
canonical relations, and those are profiled. Findings are ``Problem`` objects (model/mapping.py): errors stop
a run (or would make it fail), warnings cost data (empty tables, values no code list knows), notes inform.
"""

import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from connectors.base import SourceError
from connectors.sources import open_source
from model.canonical import Model
from model.mapping import MappingError, Problem, SourceSpec, load_mapping, load_views, model_problems
from model.settings import Settings, SettingsError
from reporting.templates import TemplatePack
from warehouse import db, raw, staging
from warehouse.db import qualified, quote

EXAMPLES = 5  # example values shown per finding
NO_PROBE = ("this kind of database has no cheap probe of its changes: the table is read every night, and a night "
            "is never skipped as unchanged (docs/mapping.md, No-change nights)")  # fmt: skip


def downstream(model: Model, pack: TemplatePack) -> dict[str, list[str]]:
    """Canonical entity -> the national tables (number and name) whose figures it feeds, via the core SQL."""
    core_reads = {p.stem: {t for layer, t in db.references("core", p.stem) if layer == "staging"}
                  for p in sorted((db.SQL_DIR / "core").glob("*.sql"))}  # fmt: skip
    platform_reads = {}
    for t in pack.tables:
        if t.form:
            platform_reads[t] = {t.form}
            continue
        entities, seen, todo = set(), set(), [("platform", t.source_table)]
        while todo:  # platform tables may read other platform tables (indicator_input)
            layer, name = todo.pop()
            if (layer, name) in seen or not db.sql_path(layer, name).exists():
                continue
            seen.add((layer, name))
            for ref_layer, ref in db.references(layer, name):
                if ref_layer == "core":
                    entities |= core_reads.get(ref, set())
                elif ref_layer == "staging":
                    entities.add(ref)
                elif ref_layer == "platform":
                    todo.append((ref_layer, ref))
        platform_reads[t] = entities
    out: dict[str, list[str]] = {name: [] for name in model.entities}
    for t, entities in platform_reads.items():
        for e in entities & set(out):
            out[e].append(f"{t.number} {t.name}")
    return out


def check(
    settings: Settings,
    model: Model,
    pack: TemplatePack,
    read_sources: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Problem]:
    """Every finding about the college's configuration (``settings.mappings_dir``), errors first."""
    found: list[Problem] = []
    specs: dict[str, SourceSpec] = {}
    files = sorted(settings.mappings_dir.glob("*.yaml"))
    if not files:
        return [Problem("error", str(settings.mappings_dir), "no mapping files (*.yaml) found")]
    for path in files:  # a broken file is reported and set aside; the others are still checked
        try:
            spec = load_mapping(path)
        except MappingError as err:
            found += [Problem("error", path.name, line.split(": ", 2)[-1]) for line in str(err).splitlines()]
            continue
        if spec.system in specs:
            found.append(
                Problem("error", path.name, f"system {spec.system!r} is also {specs[spec.system].path.name}'s")
            )
            continue
        specs[spec.system] = spec
    try:
        views = load_views(settings.college_dir / "views")
    except MappingError as err:
        found.append(Problem("error", "views", str(err)))
        views = {}
    found += model_problems(specs, model, views)
    costs = downstream(model, pack)
    found = [
        Problem(
            p.level, p.where, p.message + (f"; empty or partial: {', '.join(costs[name])}" if costs.get(name) else "")
        )
        if p.where.startswith("entity ") and (name := p.where.removeprefix("entity ")) in costs
        else p
        for p in found
    ]
    if read_sources:  # the systems whose mapping fits the model
        broken = {p.where.split(":")[0] for p in found if p.level == "error"}
        sound = {k: s for k, s in specs.items() if s.path.name not in broken}
        with tempfile.TemporaryDirectory(prefix="statedata-doctor-") as tmp:
            found += _profile(settings, model, sound, views, Path(tmp) / "doctor.duckdb", progress)
    order = {"error": 0, "warning": 1, "note": 2}
    return sorted(found, key=lambda p: order[p.level])


def _profile(
    settings: Settings,
    model: Model,
    specs: dict[str, SourceSpec],
    views: dict[str, str],
    path: Path,
    progress: Callable[[str], None],
) -> list[Problem]:
    out: list[Problem] = []
    with db.connect(path) as con:
        try:
            db.init(con, settings.college_dir / "codes")
        except ValueError as err:  # a college code file that adds to no national table
            out.append(Problem("error", "codes", str(err)))
            db.init(con)
        for spec in specs.values():
            progress(f"reading {spec.system} ({spec.title})")
            try:
                source = open_source(spec, settings.source_location(spec))
            except (SettingsError, SourceError) as err:
                out.append(Problem("error", spec.path.name, str(err)))
                continue
            extracts = {}
            try:
                for e in spec.entities.values():
                    try:
                        extracts[e.name] = source.extract(e)
                        if spec.kind == "sql" and source.probe(e) is None:
                            out.append(Problem("note", f"{spec.path.name}: entities.{e.name}", NO_PROBE))
                    except SourceError as err:
                        out.append(Problem("error", f"{spec.path.name}: entities.{e.name}", str(err)))
            finally:
                source.close()
            for name, x in extracts.items():
                if x.rows_quarantined or x.files_rejected:
                    reasons = sorted({q["reason"] for q in x.quarantined})[:EXAMPLES]
                    out.append(
                        Problem(
                            "warning",
                            f"{spec.path.name}: entities.{name}",
                            f"{x.rows_quarantined} of {x.rows_read} rows and {x.files_rejected} files would be set "
                            f"aside, e.g. {'; '.join(reasons)}",
                        )
                    )
            if not extracts:
                continue
            raw.load_batch(con, spec, extracts, datetime.now(timezone.utc), source.location)
            staging.load_translations(con, spec)
            for name in extracts:
                e = spec.entities[name]
                try:
                    staging.build_staging(con, spec, e)
                except duckdb.Error as err:  # an expression that does not fit the data
                    out.append(Problem("error", f"{spec.path.name}: entities.{name}", _first_line(err)))
        try:
            staging.build_canonical(con, model, specs, views)
        except staging.ViewError as err:
            out.append(Problem("error", str(err).split(":")[0], str(err).split(": ", 1)[-1]))
            views = {}
            staging.build_canonical(con, model, specs)
        out += _profile_relations(con, model, specs, set(views))
    return out


def _profile_relations(
    con: duckdb.DuckDBPyConnection, model: Model, specs: dict[str, SourceSpec], views: set[str]
) -> list[Problem]:
    """Per fed entity: required fields left empty, code values no code list or translation covers, repeated
    keys; each named by the mapping file that feeds the rows (or the college view that defines them)."""
    out: list[Problem] = []
    feeders = {}
    for s in specs.values():
        for e in s.entities.values():
            if e.canonical in model.entities and e.canonical not in views:
                feeders.setdefault(e.canonical, []).append((s, e))
    for name in views:
        n = con.execute(f"select count(*) from {qualified('staging', name)}").fetchone()[0]
        out.append(Problem("note", f"views/{name}.sql", f"defines {name} ({model.entities[name].title}): {n} rows"))
    for name, pairs in feeders.items():
        entity = model.entities[name]
        rel = qualified("staging", name)
        for s, e in pairs:
            where = f"{s.path.name}: entities.{e.name}"
            if s.table_name(e.name) not in db.table_names(con, "staging"):
                continue
            n = con.execute(f"select count(*) from {rel} where _system = ?", [s.system]).fetchone()[0]
            if n == 0:
                out.append(Problem("warning", where, "no rows: the source table or drop folder is empty"))
                continue
            for f in entity.fields.values():
                if f.name not in e.staged_fields():
                    continue
                col = quote(f.name)
                if f.required:
                    empty = con.execute(f"select count(*) from {rel} where _system = ? and {col} is null", [s.system])
                    k = empty.fetchone()[0]
                    if k:
                        out.append(
                            Problem("warning", f"{where}.fields.{f.name}", f"empty in {k} of {n} rows (required)")
                        )
                if f.codes:  # the national list, its crosswalk and the college's additions, as loaded
                    known = {
                        r[0]
                        for r in con.execute(
                            "select code from core.national_code where code_table in (?, ?)",
                            [f.codes, f"{f.codes}_crosswalk"],
                        ).fetchall()
                    }
                    found = _outside(con, rel, s.system, f.name, known)
                    if found:
                        rows, values, shown = found
                        out.append(
                            Problem(
                                "warning",
                                f"{where}.fields.{f.name}",
                                f"{rows} rows hold {values} values outside the code list {f.codes} ({shown}): "
                                f"translate them in the mapping (translate:), or add valid codes the national "
                                f"list lacks to the college's codes/{f.codes}.csv",
                            )
                        )
            for fname, table in e.translate.items():  # a translated field without a national list
                if fname in entity.fields and not entity.fields[fname].codes:
                    found = _outside(con, rel, s.system, fname, set(table.values()))
                    if found:
                        rows, _, shown = found
                        out.append(
                            Problem(
                                "warning",
                                f"{where}.translate.{fname}",
                                f"{rows} rows hold values the translation does not cover ({shown}): "
                                "add them to translate:",
                            )
                        )
            key = ", ".join(quote(k) for k in entity.key)
            dup = con.execute(
                f"select count(*) from (select {key} from {rel} where _system = ? group by all having count(*) > 1)",
                [s.system],
            ).fetchone()[0]
            if dup:
                hint = "" if e.latest_by else "; if the source keeps several versions, say which wins with `latest_by:`"
                out.append(
                    Problem("warning", where, f"{dup} keys ({', '.join(entity.key)}) occur more than once{hint}")
                )
    return out


def _outside(
    con: duckdb.DuckDBPyConnection, rel: str, system: str, field: str, allowed: set[str]
) -> tuple[int, int, str] | None:
    """(rows, distinct values, examples) of the rows of ``system`` whose ``field`` is not in ``allowed``."""
    col = quote(field)
    rows = con.execute(
        f"select cast({col} as varchar), count(*) from {rel} where _system = ? and {col} is not null "
        "group by all order by 2 desc",
        [system],
    ).fetchall()
    outside = [(v, c) for v, c in rows if v not in allowed]
    if not outside:
        return None
    return sum(c for _, c in outside), len(outside), ", ".join(f"{v!r} ×{c}" for v, c in outside[:EXAMPLES])


def _first_line(err: Exception) -> str:
    return f"{type(err).__name__}: {str(err).splitlines()[0]}"
