"""Template packs: which national tables exist in a collection year, and how they look.

A pack (warehouse/templates/<pack>.yaml) lists each table's number, name, owning department,
the platform table it renders, an optional row filter, the key that orders its rows, and its
columns (Chinese header, the platform field, and where the value comes from). The newest pack
whose ``applies_from`` is not after the academic year is the one used.
"""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

TEMPLATES_DIR = Path(__file__).parent / "templates"
YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    source: str


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

    @property
    def file_name(self) -> str:
        return f"{self.number}_{self.name}.xlsx"


@dataclass(frozen=True)
class TemplatePack:
    pack: str
    version: str
    title: str
    applies_from: str
    stock_month_day: tuple[int, int]
    tables: tuple[TableTemplate, ...]
    path: Path

    def table(self, table_id: str) -> TableTemplate:
        for t in self.tables:
            if t.id == table_id:
                return t
        raise KeyError(f"{self.path}: no table {table_id!r}")

    def platform_tables(self) -> list[str]:
        return sorted({t.source_table for t in self.tables})


def parse_year(academic_year: str) -> int:
    """'2026-2027' -> 2026, with a clear error for anything else."""
    m = YEAR_RE.match(academic_year or "")
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ValueError(f"academic year {academic_year!r} is not of the form 2026-2027")
    return int(m.group(1))


def year_params(academic_year: str, pack: "TemplatePack") -> dict:
    """The bound parameters every platform SQL file may use."""
    start = parse_year(academic_year)
    month, day = pack.stock_month_day
    return {
        "academic_year": academic_year,
        "stock_date": date(start, month, day),
        "year_start": date(start, 9, 1),
        "year_end": date(start + 1, 8, 31),
    }


def load_pack(path: Path) -> TemplatePack:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise TemplateError(f"{path}: not valid YAML: {e}") from None
    try:
        md = raw["stock_date"].split("-")
        parse_year(raw["applies_from"])
        tables = []
        ids = set()
        for i, t in enumerate(raw["tables"]):
            where = f"{path}: tables[{i}] ({t.get('id', '?')})"
            schema, _, table = t["from"].partition(".")
            if schema != "platform" or not table:
                raise TemplateError(f"{where}: `from` must name a platform table, e.g. platform.student")
            if t["id"] in ids:
                raise TemplateError(f"{where}: duplicate table id")
            ids.add(t["id"])
            cols = tuple(
                Column(header=str(c["header"]), field=str(c["field"]), source=str(c.get("source", "")))
                for c in t["columns"]
            )
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
        )
    except KeyError as e:
        raise TemplateError(f"{path}: missing key {e}") from None
    except (TypeError, ValueError, AttributeError) as e:
        if isinstance(e, TemplateError):
            raise
        raise TemplateError(f"{path}: {e}") from None


def all_packs(directory: Path = TEMPLATES_DIR) -> list[TemplatePack]:
    return sorted((load_pack(p) for p in directory.glob("*.yaml")), key=lambda p: parse_year(p.applies_from))


def pack_for_year(academic_year: str, directory: Path = TEMPLATES_DIR) -> TemplatePack:
    year = parse_year(academic_year)
    usable = [p for p in all_packs(directory) if parse_year(p.applies_from) <= year]
    if not usable:
        raise TemplateError(f"no template pack in {directory} applies to {academic_year}")
    return usable[-1]
