"""A starting mapping file for a new source, by introspection: `statedata init --from <url or folder>`.

A SQL source is read with SQLAlchemy's inspector (tables, columns, types, primary keys, comments); a drop folder
with calamine (the first rows of every .xlsx/.xls/.csv, where the header is looked for as the loader does). Each
table becomes an entity guessed from the canonical model by how many of its columns match a field, and every
field of that entity is written out: with the column that matches it (by name, by a known vendor abbreviation,
by the Chinese meaning in a header or a column comment) or with ``TODO``. The file is a draft for a person:
``statedata doctor`` refuses it while a ``TODO`` is left.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from connectors.files import clean_header, read_rows
from connectors.sql import parse_url, redact
from model.canonical import Entity, Model

# vendor abbreviations seen in Chinese campus systems (JY/T 1006 pinyin initials and common English names)
KNOWN = {
    "student_id": ["xh", "stu_no", "student_no", "sno", "xsxh"], "staff_id": ["jgh", "gh", "emp_no", "staff_no"],
    "name": ["xm", "name"], "gender": ["xb", "xbm", "sex", "gender"], "ethnicity": ["mz", "mzm", "nation"],
    "id_card": ["sfzh", "sfzjh", "id_no", "idcard", "id_card_no"], "birth_date": ["csrq", "birthday", "birth_date"],
    "political_status": ["zzmm", "zzmmm"], "major_id": ["zydm", "major_no", "major_code"],
    "class_id": ["bjdm", "class_no", "class_code"], "course_id": ["kcdm", "course_no", "course_code"],
    "dept_code": ["bmdm", "dept_id", "dept_no", "szbmdm", "ssxbdm"], "grade": ["nj", "grade", "cohort"],
    "enrolled_on": ["rxrq", "enrol_date", "entry_date"], "hired_on": ["lxrq", "join_date", "hire_date"],
    "left_on": ["lxrq", "lzrq", "leave_date"], "title_code": ["zc", "zcm", "zcdm", "title", "title_code"],
    "education": ["xl", "xlm", "edu"], "degree": ["xw", "xwm", "degree"], "updated_at": ["gxsj", "updated_at"],
    "unit_code": ["jgdm", "dwdm", "org_code", "dept_id"], "unit_name": ["jgmc", "dwmc", "org_name", "dept_name"],
    "parent_code": ["sjjgdm", "sjdwdm", "parent_id"], "founded_on": ["clrq", "jlrq"], "post": ["zw", "zwmc"],
    "since": ["rzrq"], "until": ["mzrq", "lrrq"], "duties": ["fggz"], "status": ["zt", "status"],
}  # fmt: skip


class IntrospectError(ValueError):
    """The source cannot be introspected (unreachable, empty); the message says which and why."""


@dataclass
class Table:
    name: str  # a SQL table, or a file name pattern
    columns: list[str]
    comments: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)
    files: str | None = None


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", str(text)).lower()


def read_sql(url: str) -> list[Table]:
    try:
        engine = sa.create_engine(parse_url(url))
        inspector = sa.inspect(engine)
        out = []
        for t in sorted(inspector.get_table_names()):
            cols = inspector.get_columns(t)
            out.append(
                Table(
                    name=t,
                    columns=[c["name"] for c in cols],
                    comments={c["name"]: c.get("comment") or "" for c in cols},
                    types={c["name"]: str(c["type"]) for c in cols},
                    primary_key=list(inspector.get_pk_constraint(t).get("constrained_columns") or []),
                )
            )
        engine.dispose()
    except sa.exc.SQLAlchemyError as e:
        raise IntrospectError(f"cannot read {redact(url)}: {type(e).__name__}: {str(e).splitlines()[0]}") from None
    if not out:
        raise IntrospectError(f"{redact(url)} has no tables")
    return out


def read_folder(folder: Path) -> list[Table]:
    out = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".xlsx", ".xls", ".csv")):
        _, rows = read_rows(path, 0)
        head = rows[:10]
        if not head:
            continue
        first = max(range(len(head)), key=lambda r: (sum(v not in (None, "") for v in head[r]), -r))
        columns = [clean_header(v) for v in head[first] if v not in (None, "")]
        pattern = re.sub(r"\d{4}(-\d{4})?", "*", path.name)  # one entity for a file a year
        if any(t.files == pattern for t in out):
            continue
        out.append(Table(name=path.stem, columns=columns, files=pattern))
    if not out:
        raise IntrospectError(f"{folder}: no .xlsx, .xls or .csv files")
    return out


def match(entity: Entity, table: Table) -> dict[str, str]:
    """Canonical field -> the column that matches it."""
    found = {}
    columns = {_norm(c): c for c in table.columns}
    for f in entity.fields.values():
        keys = [_norm(f.name), *KNOWN.get(f.name, [])]
        col = next((columns[k] for k in keys if k in columns and columns[k] not in found.values()), None)
        if col is None and f.meaning:  # a Chinese header or column comment that says the field's meaning
            meaning = _norm(f.meaning.split("（")[0])
            col = next(
                (c for c in table.columns if meaning and meaning in (_norm(c), _norm(table.comments.get(c, "")))),
                None,
            )
        if col is not None and col not in found.values():
            found[f.name] = col
    return found


def draft(system: str, source_env: str, kind: str, tables: list[Table], model: Model) -> str:
    """The starting mapping file, as YAML text with comments."""
    lines = [
        f"# Drafted by `statedata init` from the {kind} source in {source_env}: check every line, replace each TODO,",
        "# then run `statedata doctor`. Fields: docs/model.md; the format: docs/mapping.md.",
        f"system: {system}",
        "department: TODO            # the department that answers for this system (人事处, 教务处 …)",
        "title: TODO                 # the system's name, e.g. 人事管理系统（厂商 版本）",
        "source:",
        f"  kind: {kind}",
        f"  env: {source_env}",
        "entities:",
    ]
    for t in tables:
        # the entity whose fields the columns cover best (a share, so a wide entity does not win by size alone)
        matched = {name: match(e, t) for name, e in model.entities.items()}
        scored = sorted(
            ((len(m), name) for name, m in matched.items()),
            key=lambda x: (x[0] / len(model.entities[x[1]].fields), x[0]),
            reverse=True,
        )
        best_n, best = scored[0]
        key = re.sub(r"[^a-z0-9_]", "_", t.name.lower()).strip("_") or "table"
        key = key if re.match(r"^[a-z]", key) else f"t_{key}"
        lines.append(f"  {key}:")
        if best_n == 0:
            lines += [
                "    entity: TODO            # no canonical entity matches a column; name one, or delete this entity",
                f'    {"files" if t.files else "table"}: "{t.files or t.name}"',
                "    primary_key: TODO",
                "    fields: {}",
                f"    # columns: {', '.join(t.columns)}",
            ]
            continue
        entity = model.entities[best]
        found = match(entity, t)
        others = ", ".join(f"{n} ({k})" for k, n in scored[1:3] if k)
        lines.append(f"    entity: {best}              # {entity.title}: {best_n} columns match" +
                     (f"; next: {others}" if others else ""))  # fmt: skip
        lines.append(f'    {"files" if t.files else "table"}: "{t.files or t.name}"')
        pk = [k for k in entity.key if k in found] if not t.primary_key else [
            next((f for f, c in found.items() if c == p), "TODO") for p in t.primary_key
        ]  # fmt: skip
        lines.append(f"    primary_key: [{', '.join(pk) or 'TODO'}]")
        lines.append("    fields:")
        for f in entity.fields.values():
            col = found.get(f.name)
            attrs = [f"column: {col if col else 'TODO'}"]
            if f.type != "string":
                attrs.append(f"type: {f.type}")
            if f.required:
                attrs.append("required: true")
            if f.pii:
                attrs.append(f"pii: {f.pii}")
            note = f.meaning + (f", {f.unit}" if f.unit else "") + (f", code list {f.codes}" if f.codes else "")
            if col and t.types.get(col):
                note += f"; source type {t.types[col]}"
            line = f"      {f.name}: {{{', '.join(attrs)}}}"
            lines.append(f"{line:<60} # {note}" if col else f"      # {f.name}: {{{', '.join(attrs)}}}   # TODO {note}")
        rest = [c for c in t.columns if c not in found.values()]
        if rest:
            lines.append(f"    # unmatched columns: {', '.join(rest)}")
    return "\n".join(lines) + "\n"
