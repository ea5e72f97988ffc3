"""Mapping files: how one campus system's tables and columns become statedata's canonical fields.

A college whose vendor names things differently writes a mapping file, not code. The format is
documented with a complete example in docs/mapping.md; ``load_mapping`` validates a file and
raises ``MappingError`` naming the file, the entity and the field that is wrong.
"""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from model.codes import code_table_names
from model.yamlfile import read_yaml_as

FIELD_TYPES = ("string", "integer", "decimal", "date")
SOURCE_KINDS = ("sql", "files")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PII_KINDS = ("name", "id_card", "phone")


class MappingError(ValueError):
    """A mapping file is invalid; the message names the file and the place in it."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    column: str
    type: str = "string"
    required: bool = False
    pii: str | None = None
    codes: str | None = None  # national code table the value must belong to (after translation)
    aliases: tuple[str, ...] = ()  # other header names the column goes by in file drops


@dataclass(frozen=True)
class DerivedSpec:
    """A field computed in staging by a DuckDB SQL expression over the entity's mapped fields (after typing
    and translation): debit from amount and direction, 平方米 from 亩, a date from an integer year."""

    name: str
    expr: str
    type: str = "string"


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: dict[str, FieldSpec]
    primary_key: tuple[str, ...]
    entity: str = ""  # the canonical entity it feeds (model/canonical.yaml); default: its own name
    derived: dict[str, DerivedSpec] = field(default_factory=dict)
    latest_by: tuple[str, ...] = ()  # when the primary key repeats, the row with the greatest of these wins
    table: str | None = None  # sql sources: the vendor table
    files: str | None = None  # file sources: a glob below the source folder
    sheet: str | int = 0
    header_row: int | None = (
        None  # 1-based row of the column headers (the first, when there are several); None: find it
    )
    header_rows: int = 1  # header rows; a merged parent cell names the columns under it: 在校生数/一年级
    change_column: str | None = None  # column that marks changes (updated-at), if the source has one
    filename_fields: dict[str, str] = field(default_factory=dict)  # field -> regex with one group
    cell_fields: dict[str, str] = field(default_factory=dict)  # field -> label above the header (填报人: value)
    department: str | None = None  # the department that fills a form (file sources); default: the system's
    translate: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> source value -> code
    description: str = ""

    @property
    def source_name(self) -> str:
        return self.table or self.files or self.name

    @property
    def canonical(self) -> str:
        return self.entity or self.name

    def all_fields(self) -> list[str]:
        """The fields read from the source (columns, file names, cells above the header): what raw keeps."""
        return list(self.fields) + list(self.filename_fields) + list(self.cell_fields)

    def staged_fields(self) -> list[str]:
        """The fields of the staging table: those read, then those derived."""
        return self.all_fields() + list(self.derived)


@dataclass(frozen=True)
class SourceSpec:
    system: str
    department: str
    title: str
    kind: str
    entities: dict[str, EntitySpec]
    path: Path
    env: str  # environment variable holding the URL (sql) or folder (files)
    default: str | None = None  # the demo college's own folder only: used when the variable is unset

    def table_name(self, entity: str) -> str:
        """The warehouse name of an entity: ``<system>__<entity>``."""
        return f"{self.system}__{entity}"


_SOURCE_KEYS = {"system", "department", "title", "source", "entities"}
_ENTITY_KEYS = {
    "header_rows",
    "table",
    "files",
    "sheet",
    "header_row",
    "primary_key",
    "change_column",
    "fields",
    "filename_fields",
    "cell_fields",
    "department",
    "translate",
    "description",
    "entity",
    "latest_by",
}
_FIELD_KEYS = {"column", "type", "required", "pii", "codes", "aliases"}
_DERIVED_KEYS = {"expr", "type"}


def _fail(path: Path, where: str, msg: str) -> MappingError:
    return MappingError(f"{path}: {where}: {msg}")


def _check_keys(path, where, got: dict, allowed: set, required: set = frozenset()):
    if not isinstance(got, dict):
        raise _fail(path, where, f"expected a mapping of keys, found {type(got).__name__}")
    unknown = set(got) - allowed
    if unknown:
        raise _fail(path, where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    missing = set(required) - set(got)
    if missing:
        raise _fail(path, where, f"missing required key(s) {sorted(missing)}")


def _field(path, where, name, raw) -> FieldSpec:
    if isinstance(raw, str):
        raw = {"column": raw}
    _check_keys(path, where, raw, _FIELD_KEYS, {"column"})
    ftype = raw.get("type", "string")
    if ftype not in FIELD_TYPES:
        raise _fail(path, where, f"type {ftype!r} is not one of {', '.join(FIELD_TYPES)}")
    pii = raw.get("pii")
    if pii is not None and pii not in PII_KINDS:
        raise _fail(path, where, f"pii {pii!r} is not one of {', '.join(PII_KINDS)}")
    codes = raw.get("codes")
    if codes is not None and codes not in code_table_names():
        raise _fail(
            path, where, f"codes {codes!r} is not a national code table; known: {', '.join(code_table_names())}"
        )
    return FieldSpec(
        name=name,
        column=str(raw["column"]),
        type=ftype,
        required=bool(raw.get("required", False)),
        pii=pii,
        codes=codes,
        aliases=tuple(str(a) for a in (raw.get("aliases") or ())),
    )


def _entity(path: Path, kind: str, name: str, raw: dict) -> EntitySpec:
    where = f"entities.{name}"
    if not NAME_RE.match(name):
        raise _fail(path, where, "entity names are lowercase letters, digits and _ (they become table names)")
    _check_keys(path, where, raw, _ENTITY_KEYS, {"fields", "primary_key"} | ({"table"} if kind == "sql" else {"files"}))
    fields, derived = {}, {}
    for fname, fraw in (raw.get("fields") or {}).items():
        if not NAME_RE.match(str(fname)):
            raise _fail(path, f"{where}.fields.{fname}", "field names are lowercase letters, digits and _")
        if isinstance(fraw, dict) and "expr" in fraw:
            _check_keys(path, f"{where}.fields.{fname}", fraw, _DERIVED_KEYS, {"expr"})
            if fraw.get("type", "string") not in FIELD_TYPES:
                raise _fail(
                    path, f"{where}.fields.{fname}", f"type {fraw['type']!r} is not one of {', '.join(FIELD_TYPES)}"
                )
            if ";" in str(fraw["expr"]):
                raise _fail(path, f"{where}.fields.{fname}.expr", "one SQL expression, without ';'")
            derived[fname] = DerivedSpec(fname, str(fraw["expr"]), fraw.get("type", "string"))
            continue
        fields[fname] = _field(path, f"{where}.fields.{fname}", fname, fraw)
    if not fields:
        raise _fail(path, where, "no fields")
    columns = [f.column for f in fields.values()]
    dup = {c for c in columns if columns.count(c) > 1}
    if dup:
        raise _fail(path, where, f"source column(s) {sorted(dup)} mapped to more than one field")
    filename_fields = dict(raw.get("filename_fields") or {})
    for fname, rx in filename_fields.items():
        try:
            if re.compile(rx).groups != 1:
                raise _fail(path, f"{where}.filename_fields.{fname}", "the regex must have exactly one group")
        except re.error as e:
            raise _fail(path, f"{where}.filename_fields.{fname}", f"invalid regex: {e}") from None
    cell_fields = {str(k): str(v) for k, v in (raw.get("cell_fields") or {}).items()}
    for fname in cell_fields:
        if not NAME_RE.match(fname) or fname in fields or fname in filename_fields:
            raise _fail(
                path, f"{where}.cell_fields.{fname}", "expected a new field name (lowercase letters, digits, _)"
            )
    pk = raw["primary_key"]
    pk = (pk,) if isinstance(pk, str) else tuple(pk)
    for k in pk:
        if k not in fields and k not in filename_fields:
            raise _fail(
                path, f"{where}.primary_key", f"{k!r} is not a field of this entity; fields: {', '.join(fields)}"
            )
    translate = {}
    for fname, table in (raw.get("translate") or {}).items():
        if fname not in fields:
            raise _fail(path, f"{where}.translate.{fname}", f"not a field of this entity; fields: {', '.join(fields)}")
        if not isinstance(table, dict):
            raise _fail(path, f"{where}.translate.{fname}", "expected source value: national code pairs")
        flags = [k for k in (*table, *table.values()) if isinstance(k, bool)]
        if flags:  # YAML reads OFF, ON, YES, NO, Y, N, true, false unquoted as booleans, never as the text
            raise _fail(
                path,
                f"{where}.translate.{fname}",
                "a value reads as a yes/no flag, not as text (OFF, ON, YES, NO, Y, N, true, false): quote it, "
                "e.g. 'OFF': 行政办公用房 or 'true': 是",
            )
        translate[fname] = {str(k): str(v) for k, v in table.items()}
    latest_by = raw.get("latest_by") or ()
    latest_by = (latest_by,) if isinstance(latest_by, str) else tuple(latest_by)
    for k in latest_by:
        if k not in fields and k not in derived:
            raise _fail(path, f"{where}.latest_by", f"{k!r} is not a field of this entity; fields: {', '.join(fields)}")
    canonical = raw.get("entity", name)
    if not isinstance(canonical, str) or not NAME_RE.match(canonical):
        raise _fail(path, f"{where}.entity", "expected the name of a canonical entity (model/canonical.yaml)")
    change = raw.get("change_column")
    if change is not None and change not in columns:
        raise _fail(path, f"{where}.change_column", f"{change!r} is not one of the mapped source columns")
    header_row, header_rows = raw.get("header_row"), raw.get("header_rows", 1)
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise _fail(path, f"{where}.header_row", "expected a row number starting at 1")
    if not isinstance(header_rows, int) or not 1 <= header_rows <= 5:
        raise _fail(path, f"{where}.header_rows", "expected the number of header rows, 1 to 5")
    return EntitySpec(
        name=name,
        fields=fields,
        primary_key=pk,
        table=raw.get("table"),
        files=raw.get("files"),
        sheet=raw.get("sheet", 0),
        header_row=header_row,
        header_rows=header_rows,
        change_column=change,
        filename_fields=filename_fields,
        cell_fields=cell_fields,
        department=raw.get("department"),
        translate=translate,
        description=raw.get("description", ""),
        entity=canonical,
        derived=derived,
        latest_by=latest_by,
    )


def pii_fields(specs: dict[str, SourceSpec], model=None) -> dict[str, str]:
    """Field name -> kind of personal data (name, id_card, phone), for masking evidence and reports: what the
    canonical model (``model.canonical.Model``) declares, and what a mapping marks besides."""
    out = {f.name: f.pii for s in specs.values() for e in s.entities.values() for f in e.fields.values() if f.pii}
    if model is not None:
        out |= {f.name: f.pii for e in model.entities.values() for f in e.fields.values() if f.pii}
    return out


def translations(specs: dict[str, SourceSpec]) -> dict[str, dict[str, set[str]]]:
    """Canonical entity -> field -> every value the feeding mappings translate to."""
    out: dict[str, dict[str, set[str]]] = {}
    for s in specs.values():
        for e in s.entities.values():
            for f, table in e.translate.items():
                out.setdefault(e.canonical, {}).setdefault(f, set()).update(table.values())
    return out


_LOADED: dict[tuple[Path, bytes], SourceSpec] = {}  # (path, digest of its bytes) -> its spec


def load_mapping(path: str | Path) -> SourceSpec:
    """One mapping file, checked. A file this process has read before with the same bytes is not parsed again: a run
    reads the mappings in several places."""
    path = Path(path)
    try:
        key = (path, hashlib.sha256(path.read_bytes()).digest())
    except OSError:
        key = None  # reported by the reading below
    if key in _LOADED:
        return _LOADED[key]
    spec = _read_mapping(path)
    if key is not None:
        _LOADED[key] = spec
    return spec


def _read_mapping(path: Path) -> SourceSpec:
    raw = read_yaml_as(path, MappingError, "mapping file")
    _check_keys(path, "top level", raw, _SOURCE_KEYS, _SOURCE_KEYS)
    todo = [k for k in ("department", "title") if str(raw[k]).strip().upper().startswith("TODO")]
    if todo:
        raise _fail(path, ", ".join(todo), "still TODO: name the department and the system")
    system = raw["system"]
    if not isinstance(system, str) or not NAME_RE.match(system):
        raise _fail(path, "system", "expected a lowercase name such as hr or academic")
    src = raw["source"]
    _check_keys(path, "source", src, {"kind", "env", "default"}, {"kind", "env"})
    if src["kind"] not in SOURCE_KINDS:
        raise _fail(path, "source.kind", f"{src['kind']!r} is not one of {', '.join(SOURCE_KINDS)}")
    if not isinstance(raw["entities"], dict) or not raw["entities"]:
        raise _fail(path, "entities", "expected at least one entity")
    entities, problems = {}, []
    for name, e in raw["entities"].items():  # every broken entity of the file is named, not only the first
        try:
            entities[name] = _entity(path, src["kind"], name, e)
        except MappingError as err:
            problems.append(str(err))
    if problems:
        raise MappingError("\n".join(problems))
    return SourceSpec(
        system=system,
        department=str(raw["department"]),
        title=str(raw["title"]),
        kind=src["kind"],
        entities=entities,
        path=path,
        env=str(src["env"]),
        default=src.get("default"),
    )


def load_mappings(directory: str | Path) -> dict[str, SourceSpec]:
    """Every mapping file of the folder; MappingError lists the problems of every broken file at once."""
    directory = Path(directory)
    specs, problems = {}, []
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise MappingError(f"{directory}: no mapping files (*.yaml) found")
    for p in files:
        try:
            spec = load_mapping(p)
        except MappingError as err:
            problems.append(str(err))
            continue
        if spec.system in specs:
            problems.append(f"{p}: system {spec.system!r} is already described by {specs[spec.system].path}")
            continue
        specs[spec.system] = spec
    if problems:
        raise MappingError("\n".join(problems))
    return specs


@dataclass(frozen=True)
class Problem:
    """One finding about a mapping folder: ``error`` stops a run, ``warning`` costs data, ``note`` informs."""

    level: str  # error | warning | note
    where: str  # <mapping file>: entities.<entity>[.fields.<field>]
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


def staged_type(entity: EntitySpec, name: str) -> str:
    """The type a field has in staging: translated values are text, whatever the source type."""
    if name in entity.translate:
        return "string"
    if name in entity.derived:
        return entity.derived[name].type
    f = entity.fields.get(name)
    return f.type if f else "string"


_WIDENS = {("integer", "decimal")}  # a staged type the model's type takes without loss


VIEW_READS = re.compile(r"\bstaging\.([a-z][a-z0-9_]*__[a-z][a-z0-9_]*)\b")


def load_views(folder: str | Path) -> dict[str, str]:
    """A college's ``views/<entity>.sql``: SQL that defines a canonical relation itself, for what a field
    mapping cannot say (a value looked up in another system's table, events folded into one row). Each is
    one SELECT over the mapping staging tables (``staging.<system>__<entity>``) that yields the canonical
    fields it can (the others are null) and ``_raw_id``."""
    folder = Path(folder)
    views = {}
    for p in sorted(folder.glob("*.sql")) if folder.is_dir() else []:
        text = p.read_text(encoding="utf-8").strip().rstrip(";")
        if not NAME_RE.match(p.stem):
            raise MappingError(f"{p}: view files are named <entity>.sql, lowercase")
        code = re.sub(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", "", text, flags=re.S)  # comments and strings may hold ;
        if ";" in code:
            raise MappingError(f"{p}: one SELECT statement, without ';'")
        views[p.stem] = text
    return views


def model_problems(specs: dict[str, SourceSpec], model, views: dict[str, str] | None = None) -> list[Problem]:
    """Every mismatch between the mapping files and the canonical model (``model.canonical.Model``), at once.

    Errors: a canonical entity that does not exist, a field whose type the model cannot take, a model key
    field the mapping does not give. Warnings: a required field no mapping of the entity gives (its rows
    will fail the completeness rule), an entity nothing feeds (its tables stay empty). Notes: mapped fields
    the model does not have (helpers for expressions; nothing downstream reads them).
    """
    out: list[Problem] = []
    views = views or {}
    read_by_views = {t for sql in views.values() for t in VIEW_READS.findall(sql)}
    for name in views:
        if name not in model.entities:
            out.append(Problem("error", f"views/{name}.sql", f"{name!r} is not an entity of the canonical model"))
    fed: dict[str, list[tuple[SourceSpec, EntitySpec]]] = {}
    for s in specs.values():
        for e in s.entities.values():
            where = f"{s.path.name}: entities.{e.name}"
            if e.canonical not in model.entities and s.table_name(e.name) in read_by_views:
                continue  # a table only a college view reads (status changes, a chart of accounts)
            if e.canonical not in model.entities:
                out.append(
                    Problem(
                        "error",
                        where + (".entity" if e.entity != e.name else ""),
                        f"{e.canonical!r} is not an entity of the canonical model; known: {', '.join(model.entities)}"
                        " (docs/model.md); name it with `entity:`",
                    )
                )
                continue
            fed.setdefault(e.canonical, []).append((s, e))
            target = model.entities[e.canonical]
            extra = [n for n in e.staged_fields() if n not in target.fields]
            if extra:
                out.append(Problem("note", where, f"not in the model, read by nothing downstream: {', '.join(extra)}"))
            for n in e.staged_fields():
                if n not in target.fields:
                    continue
                got, want = staged_type(e, n), target.fields[n].type
                if got != want and (got, want) not in _WIDENS:
                    why = " (translated values are text)" if n in e.translate else ""
                    out.append(
                        Problem(
                            "error", f"{where}.fields.{n}", f"is {got}{why}; the model's {e.canonical}.{n} is {want}"
                        )
                    )
            missing_key = [k for k in target.key if k not in e.staged_fields()]
            if missing_key:
                out.append(
                    Problem("error", where, f"gives no {', '.join(missing_key)}: the key of {e.canonical} in the model")
                )
    for name, entity in model.entities.items():
        feeders = fed.get(name, [])
        if name in views:
            continue  # the college's own SQL defines it: its columns are checked when it is built
        if not feeders:
            level = "note" if entity.optional else "warning"
            out.append(Problem(level, f"entity {name}", f"no mapping feeds {entity.title} ({name}): it stays empty"))
            continue
        for f in entity.fields.values():
            if f.required:
                lacking = [s.path.name for s, e in feeders if f.name not in e.staged_fields()]
                if lacking:
                    out.append(
                        Problem(
                            "warning",
                            f"{', '.join(lacking)}: entities.{name}",
                            f"required field {f.name} ({f.meaning or f.name}) is not mapped: every row lacks it",
                        )
                    )
    return out
