"""The canonical model: every entity and field the core SQL reads, declared once (model/canonical.yaml).

It is the contract between a college's mapping files and everything downstream. A mapping entity
feeds one canonical entity (several may feed the same one: an SQL system and an Excel drop, two
databases of one office); the warehouse exposes each canonical entity as one relation,
``staging.<entity>``, whatever systems feed it, and that relation is all the core SQL, the rules and
the templates ever name. An entity or optional field no mapping feeds is still there, empty (null),
so a college that lacks a source gets empty tables and a completeness warning, not a crash.

``docs/model.md`` is generated from the file with what reads each entity (``python -m expectations.modeldocs
> docs/model.md``; a test keeps them in step).
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from model.codes import code_table_names
from model.yamlfile import read_yaml_as

MODEL_PATH = Path(__file__).parent / "canonical.yaml"
FIELD_TYPES = ("string", "integer", "decimal", "date")
PII_KINDS = ("name", "id_card", "phone")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SQL_TYPES = {"string": "varchar", "integer": "bigint", "decimal": "decimal(18, 2)", "date": "date"}


class ModelError(ValueError):
    """The canonical model file is invalid; the message names the place."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    required: bool = False
    pii: str | None = None
    codes: str | None = None  # national code table (model/codes) the value belongs to
    references: str | None = None  # <entity>.<field> the value must resolve to
    unit: str | None = None
    meaning: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Entity:
    name: str
    title: str
    key: tuple[str, ...]
    fields: dict[str, Field]
    form: bool = False  # a department form (a drop every department fills in), not a system's table
    optional: bool = False  # many colleges have none (major directions): nothing to warn about when unfed
    description: str = ""


@dataclass(frozen=True)
class Model:
    entities: dict[str, Entity]
    path: Path

    def entity(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError:
            raise ModelError(f"{name!r} is not an entity of the canonical model ({self.path})") from None


_ENTITY_KEYS = {"title", "key", "fields", "form", "optional", "description"}
_FIELD_KEYS = {"type", "required", "pii", "codes", "references", "unit", "meaning"}


def _field(where: str, name: str, raw) -> Field:
    raw = raw or {}
    if not isinstance(raw, dict) or set(raw) - _FIELD_KEYS:
        raise ModelError(f"{where}: expected keys among {sorted(_FIELD_KEYS)}")
    if raw.get("type", "string") not in FIELD_TYPES:
        raise ModelError(f"{where}: type {raw.get('type')!r} is not one of {', '.join(FIELD_TYPES)}")
    if raw.get("pii") not in (None, *PII_KINDS):
        raise ModelError(f"{where}: pii {raw.get('pii')!r} is not one of {', '.join(PII_KINDS)}")
    if raw.get("codes") is not None and raw["codes"] not in code_table_names():
        raise ModelError(f"{where}: codes {raw['codes']!r} is not a code table in model/codes")
    return Field(
        name=name,
        type=raw.get("type", "string"),
        required=bool(raw.get("required", False)),
        pii=raw.get("pii"),
        codes=raw.get("codes"),
        references=raw.get("references"),
        unit=None if raw.get("unit") is None else str(raw["unit"]),
        meaning=str(raw.get("meaning", "")),
    )


def parse_model(raw: dict, path: Path) -> Model:
    if not isinstance(raw, dict) or not isinstance(raw.get("entities"), dict):
        raise ModelError(f"{path}: expected a top-level 'entities' mapping")
    entities = {}
    for name, e in raw["entities"].items():
        where = f"{path}: entities.{name}"
        if not NAME_RE.match(str(name)):
            raise ModelError(f"{where}: entity names are lowercase letters, digits and _")
        if not isinstance(e, dict) or set(e) - _ENTITY_KEYS or "fields" not in e or "key" not in e:
            raise ModelError(
                f"{where}: expected 'key', 'fields' and optionally {sorted(_ENTITY_KEYS - {'key', 'fields'})}"
            )
        fields = {}
        for fname, fraw in e["fields"].items():
            if not NAME_RE.match(str(fname)):
                raise ModelError(f"{where}.fields.{fname}: field names are lowercase letters, digits and _")
            fields[fname] = _field(f"{where}.fields.{fname}", fname, fraw)
        key = (e["key"],) if isinstance(e["key"], str) else tuple(e["key"])
        if not key or set(key) - set(fields):
            raise ModelError(f"{where}.key: {list(key)} must name fields of the entity")
        entities[name] = Entity(
            name=name,
            title=str(e.get("title", name)),
            key=key,
            fields=fields,
            form=bool(e.get("form", False)),
            optional=bool(e.get("optional", False)),
            description=str(e.get("description", "")),
        )
    for e in entities.values():
        for f in e.fields.values():
            if f.references is None:
                continue
            target, _, tfield = f.references.partition(".")
            if target not in entities or tfield not in entities[target].fields:
                raise ModelError(
                    f"{path}: entities.{e.name}.fields.{f.name}.references: {f.references!r} is not <entity>.<field>"
                )
    return Model(entities=entities, path=path)


@cache
def _load(path: Path, mtime: float) -> Model:
    return parse_model(read_yaml_as(path, ModelError, "canonical model file"), path)


def load_model(path: Path = MODEL_PATH) -> Model:
    """The canonical model (cached while the file is unchanged)."""
    path = Path(path)
    return _load(path, path.stat().st_mtime if path.exists() else 0.0)


def markdown(model: Model, used_by: dict[str, list[str]] | None = None) -> str:
    """docs/model.md: one section per entity, one row per field; ``used_by`` maps entity -> what reads it."""
    used_by = used_by or {}
    out = [
        "# The canonical model",
        "",
        "Generated from `model/canonical.yaml` by `python -m expectations.modeldocs > docs/model.md`; do not edit it.",
        "Every mapping file feeds these entities and fields (see [mapping.md](mapping.md)); the core SQL reads",
        "them as `staging.<entity>`. A field nobody maps is null; an entity nobody maps is empty.",
        "",
    ]
    for e in model.entities.values():
        out += [f"## {e.name} — {e.title}", ""]
        if e.description:
            out += [e.description, ""]
        out.append(
            f"Key: {', '.join(e.key)}."
            + (" A department form." if e.form else "")
            + (" Optional: many colleges have none." if e.optional else "")
        )
        if used_by.get(e.name):
            out.append(f"Read by: {', '.join(used_by[e.name])}.")
        out += ["", "| field | type | required | meaning | unit | codes / references |", "|---|---|---|---|---|---|"]
        for f in e.fields.values():
            ref = " ".join(x for x in (f.codes and f"codes: {f.codes}", f.references and f"→ {f.references}") if x)
            pii = f" (personal: {f.pii})" if f.pii else ""
            out.append(
                f"| {f.name} | {f.type} | {'yes' if f.required else ''} | {f.meaning}{pii} | {f.unit or ''} | {ref} |"
            )
        out.append("")
    return "\n".join(out)
