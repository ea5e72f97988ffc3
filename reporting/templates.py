"""Template packs: which national tables exist in a collection year, and how they look.

A pack (reporting/templates/<pack>.yaml) lists each table's number, name, owning department,
the platform table it renders, an optional row filter, the key that orders its rows, and its
columns (Chinese header, the platform field, and where the value comes from). The newest pack
whose ``applies_from`` is not after the academic year is the one used.
"""

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from model.canonical import load_model
from model.codes import code_table_names
from model.yamlfile import YAMLError, read_yaml
from model.years import parse_year
from warehouse.db import ident, quote

TEMPLATES_DIR = Path(__file__).parent / "templates"


class TemplateError(ValueError):
    pass


PERIODS = ("stock", "academic_year", "calendar_year")


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    source: str
    group: str = ""  # upper header cell shared by adjacent columns (two-row headers)
    codes: str = ""  # national code table the values come from


@dataclass(frozen=True)
class TableTemplate:
    id: str
    number: str
    name: str
    owner: str
    source_table: str  # platform table name (without the schema)
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    where: tuple[tuple[str, str], ...] = ()
    period: str = "stock"
    form: str = ""  # a department form (a canonical entity with form: true): the platform table is its rows

    @property
    def file_name(self) -> str:
        return f"{self.number}_{self.name}.xlsx"

    @property
    def header_depth(self) -> int:
        return 2 if any(c.group for c in self.columns) else 1

    def lineage_key_sql(self) -> str:
        """The lineage key of this table's rows (warehouse/lineage.py): its ``where`` columns (a platform table
        shared by two templates, e.g. finance's 收入 and 支出), then its key columns, joined by '|'."""
        return f"concat_ws('|', {', '.join(quote(c) for c in [k for k, _ in self.where] + list(self.key))})"

    def lineage_key(self, row_key: str) -> str:
        """The lineage key of the row whose key values (joined by '|') are ``row_key``."""
        return "|".join([v for _, v in self.where] + [row_key])

    def form_sql(self) -> str:
        """The platform SQL of a form table: the year's rows of the form, with who filled it and when."""
        entity = load_model().entity(self.form)
        fields = [quote(f) for f in entity.fields if f != "academic_year"]
        return (
            f"select $academic_year as academic_year, {', '.join(fields)}, _source_file, _source_sheet, _source_row, "
            f"[_raw_id] as _raw_ids from staging.{ident(self.form)} where academic_year = $academic_year"
        )


@dataclass(frozen=True)
class TemplatePack:
    pack: str
    version: str
    title: str
    applies_from: str
    stock_month_day: tuple[int, int]
    tables: tuple[TableTemplate, ...]
    path: Path
    parameters: tuple[tuple[str, object], ...] = ()
    extends: str = ""

    def table(self, table_id: str) -> TableTemplate:
        for t in self.tables:
            if t.id == table_id:
                return t
        raise KeyError(f"{self.path}: no table {table_id!r}")

    def platform_tables(self) -> list[str]:
        return sorted({t.source_table for t in self.tables})

    def ordered_tables(self) -> list[TableTemplate]:
        """Tables in the platform's numbering order (A1, A1-6, A2, A3-1 … A10-1, A12-3)."""

        def order(t: TableTemplate):
            return [(0, int(x), "") if x.isdigit() else (1, 0, x) for x in re.findall(r"\d+|\D+", t.number)]

        return sorted(self.tables, key=order)


def year_params(academic_year: str, pack: "TemplatePack", overrides: dict | None = None) -> dict:
    """The bound parameters every platform SQL file may use: the periods and the pack's parameters
    (``overrides``, from the environment, win over the pack's values)."""
    start = parse_year(academic_year)
    month, day = pack.stock_month_day
    return {
        "academic_year": academic_year,
        "stock_date": date(start, month, day),
        "year_start": date(start, 9, 1),
        "year_end": date(start + 1, 8, 31),
        "fiscal_year": start,  # the calendar year the academic year starts in: closed when data are collected
        **dict(pack.parameters),
        **{k: v for k, v in (overrides or {}).items() if k in dict(pack.parameters)},
    }


def _read(path: Path) -> dict:
    try:
        raw = read_yaml(path)
    except YAMLError as e:
        raise TemplateError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise TemplateError(f"{path}: expected a mapping at the top level")
    return raw


def _merge(base: dict, child: dict, path: Path) -> dict:
    """A pack that ``extends`` another: its keys replace the base's, and its ``changes`` edit tables
    by id (number, name, owner, period, and ``headers``: field -> new header); ``drop`` removes tables
    and ``tables`` appends new ones."""
    merged = {k: v for k, v in base.items() if k != "tables"} | {
        k: v for k, v in child.items() if k not in ("changes", "drop", "tables")
    }
    tables = {t["id"]: dict(t) for t in base["tables"]}
    for table_id in child.get("drop") or []:
        if tables.pop(table_id, None) is None:
            raise TemplateError(f"{path}: drop: no table {table_id!r} in {child['extends']}")
    for table_id, change in (child.get("changes") or {}).items():
        if table_id not in tables:
            raise TemplateError(f"{path}: changes: no table {table_id!r} in {child['extends']}")
        t = tables[table_id]
        headers = dict(change.get("headers") or {})
        unknown = set(headers) - {c["field"] for c in t["columns"]}
        if unknown:
            raise TemplateError(f"{path}: changes.{table_id}.headers: no column(s) {sorted(unknown)}")
        t["columns"] = [c | ({"header": headers[c["field"]]} if c["field"] in headers else {}) for c in t["columns"]]
        t.update({k: v for k, v in change.items() if k != "headers"})
    merged["tables"] = list(tables.values()) + list(child.get("tables") or [])
    return merged


def load_pack(path: Path) -> TemplatePack:
    raw = _read(path)
    if raw.get("extends"):
        base_path = path.with_name(f"{raw['extends']}.yaml")
        if not base_path.exists():
            raise TemplateError(f"{path}: extends {raw['extends']!r}, but {base_path} does not exist")
        base = _read(base_path)
        if base.get("extends"):
            raise TemplateError(f"{path}: {base_path.name} extends another pack itself; extend a full pack")
        raw = _merge(base, raw, path)
    model = load_model()
    try:
        md = raw["stock_date"].split("-")
        parse_year(raw["applies_from"])
        tables = []
        ids = set()
        for i, t in enumerate(raw["tables"]):
            where = f"{path}: tables[{i}] ({t.get('id', '?')})"
            form = t.get("form", "")
            if form:
                if form not in model.entities or not model.entities[form].form:
                    forms = ", ".join(n for n, e in model.entities.items() if e.form)
                    raise TemplateError(f"{where}: `form` must name a form entity of the canonical model: {forms}")
                schema, table = "platform", form
            else:
                schema, _, table = t["from"].partition(".")
            if schema != "platform" or not table:
                raise TemplateError(f"{where}: `from` must name a platform table, e.g. platform.student")
            period = t.get("period", "stock")
            if period not in PERIODS:
                raise TemplateError(f"{where}: period {period!r} is not one of {', '.join(PERIODS)}")
            if t["id"] in ids:
                raise TemplateError(f"{where}: duplicate table id")
            ids.add(t["id"])
            cols = tuple(
                Column(
                    header=str(c["header"]),
                    field=str(c["field"]),
                    source=str(c.get("source", "")),
                    group=str(c.get("group", "")),
                    codes=str(c.get("codes", "")),
                )
                for c in t["columns"]
            )
            for c in cols:
                entity, dot, fname = c.source.partition(".")
                if (
                    c.source
                    and not c.source.startswith("computed:")
                    and (not dot or fname not in getattr(model.entities.get(entity), "fields", {}))
                ):
                    raise TemplateError(
                        f"{where}: column {c.field}: source {c.source!r} is not <entity>.<field> of the canonical "
                        "model (docs/model.md), nor 'computed: …'"
                    )
                if c.codes and c.codes not in code_table_names():
                    raise TemplateError(f"{where}: column {c.field}: codes {c.codes!r} is not a national code table")
            fields = {c.field for c in cols}
            for k in t["key"]:
                if k not in fields:
                    raise TemplateError(f"{where}: key field {k!r} is not one of the table's columns")
            tables.append(
                TableTemplate(
                    id=t["id"],
                    number=str(t["number"]),
                    name=t["name"],
                    owner=t["owner"],
                    source_table=table,
                    key=tuple(t["key"]),
                    columns=cols,
                    where=tuple((t.get("where") or {}).items()),
                    period=period,
                    form=form,
                )
            )
        return TemplatePack(
            pack=raw["pack"],
            version=str(raw["version"]),
            title=raw.get("title", ""),
            applies_from=raw["applies_from"],
            stock_month_day=(int(md[0]), int(md[1])),
            tables=tuple(tables),
            path=path,
            parameters=tuple((raw.get("parameters") or {}).items()),
            extends=raw.get("extends", ""),
        )
    except KeyError as e:
        raise TemplateError(f"{path}: missing key {e}") from None
    except (TypeError, ValueError, AttributeError) as e:
        if isinstance(e, TemplateError):
            raise
        raise TemplateError(f"{path}: {e}") from None


def all_packs(directory: Path = TEMPLATES_DIR) -> list[TemplatePack]:
    """Every pack of a folder, oldest first; read once per process while the files stay as they are."""
    files = tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in Path(directory).glob("*.yaml")))
    return list(_packs(Path(directory), files))


@cache
def _packs(directory: Path, files: tuple) -> tuple[TemplatePack, ...]:
    packs = (load_pack(directory / name) for name, _, _ in files)
    return tuple(sorted(packs, key=lambda p: parse_year(p.applies_from)))


def pack_for_year(academic_year: str, directory: Path = TEMPLATES_DIR) -> TemplatePack:
    year = parse_year(academic_year)
    usable = [p for p in all_packs(directory) if parse_year(p.applies_from) <= year]
    if not usable:
        raise TemplateError(f"no template pack in {directory} applies to {academic_year}")
    return usable[-1]
