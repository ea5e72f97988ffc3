"""The report's configuration beside the code: its areas with their figures and charts (areas.yaml) and the
breakdowns that explain a moved indicator input (breakdowns.yaml). Both name platform tables and columns only;
a measure is checked against the warehouse's columns before it is read (identifiers from that allow-list,
values bound as parameters)."""

from dataclasses import dataclass
from pathlib import Path

from model.yamlfile import read_yaml

AREAS = Path(__file__).parent / "areas.yaml"
BREAKDOWNS = Path(__file__).parent / "breakdowns.yaml"
_MEASURE_KEYS = {"table", "count", "sum", "where", "by"}


class ConfigError(ValueError):
    """areas.yaml or breakdowns.yaml is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class Measure:
    """What one platform table gives for an academic year: its row count or a column's sum, over the rows
    ``where`` selects, optionally per value of ``by``."""

    table: str
    sum: str | None = None
    where: tuple[tuple[str, tuple], ...] = ()
    by: str | None = None

    def columns(self) -> set[str]:
        return {c for c in (self.sum, self.by, *(k for k, _ in self.where)) if c}


@dataclass(frozen=True)
class FigureSpec:
    label: str
    unit: str
    decimals: int
    measure: Measure


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    unit: str
    measure: Measure


@dataclass(frozen=True)
class AreaSpec:
    name: str
    indicators: tuple[str, ...]
    figures: tuple[FigureSpec, ...]
    charts: tuple[ChartSpec, ...]


@dataclass(frozen=True)
class BreakdownSpec:
    input: str
    label: str
    measure: Measure


def _measure(entry: dict, where: str, allowed: set[str]) -> Measure:
    unknown = set(entry) - _MEASURE_KEYS - allowed
    if unknown or not entry.get("table"):
        raise ConfigError(
            f"{where}: unknown key(s) {sorted(unknown)} or no table; keys: {sorted(_MEASURE_KEYS | allowed)}"
        )
    if "count" in entry and "sum" in entry:
        raise ConfigError(f"{where}: count or sum, not both")
    conditions = entry.get("where") or {}
    if not isinstance(conditions, dict) or not all(isinstance(v, list) and v for v in conditions.values()):
        raise ConfigError(f"{where}: where must map columns to non-empty lists of values")
    return Measure(
        table=str(entry["table"]),
        sum=str(entry["sum"]) if entry.get("sum") else None,
        where=tuple((str(k), tuple(v)) for k, v in conditions.items()),
        by=str(entry["by"]) if entry.get("by") else None,
    )


def load_areas(path: Path = AREAS) -> list[AreaSpec]:
    raw = read_yaml(path) or {}
    areas, labels = [], set()
    for i, a in enumerate(raw.get("areas") or []):
        where = f"{path}: areas[{i}] ({a.get('name', '?')})"
        if set(a) - {"name", "indicators", "figures", "charts"} or not a.get("name"):
            raise ConfigError(f"{where}: keys are name, indicators, figures, charts")
        figures = []
        for j, f in enumerate(a.get("figures") or []):
            w = f"{where}: figures[{j}]"
            if not f.get("label"):
                raise ConfigError(f"{w}: no label")
            if f["label"] in labels:
                raise ConfigError(f"{w}: label {f['label']!r} is used twice (the change list names figures by label)")
            labels.add(f["label"])
            m = _measure(f, w, {"label", "unit", "decimals"})
            if m.by:
                raise ConfigError(f"{w}: a figure is one number: no by")
            figures.append(FigureSpec(str(f["label"]), str(f.get("unit", "")), int(f.get("decimals", 0)), m))
        charts = []
        for j, c in enumerate(a.get("charts") or []):
            w = f"{where}: charts[{j}]"
            m = _measure(c, w, {"id", "title", "unit"})
            if not (c.get("id") and c.get("title") and m.by):
                raise ConfigError(f"{w}: a chart needs id, title and by (the grouping column)")
            charts.append(ChartSpec(str(c["id"]), str(c["title"]), str(c.get("unit", "")), m))
        areas.append(AreaSpec(str(a["name"]), tuple(a.get("indicators") or ()), tuple(figures), tuple(charts)))
    return areas


def load_breakdowns(path: Path = BREAKDOWNS) -> dict[str, list[BreakdownSpec]]:
    raw = read_yaml(path) or {}
    out: dict[str, list[BreakdownSpec]] = {}
    for name, entries in (raw.get("breakdowns") or {}).items():
        for j, b in enumerate(entries or []):
            where = f"{path}: breakdowns.{name}[{j}]"
            m = _measure(b, where, {"label"})
            if not m.by:
                raise ConfigError(f"{where}: a breakdown needs by (the grouping column)")
            out.setdefault(str(name), []).append(BreakdownSpec(str(name), str(b.get("label") or m.by), m))
    return out


def check_indicators(areas: list[AreaSpec], breakdowns: dict[str, list[BreakdownSpec]], defs: dict) -> None:
    """Every indicator an area names and every input a breakdown names exists in the definitions."""
    ids = {i["id"] for i in defs["indicators"]}
    for a in areas:
        unknown = set(a.indicators) - ids
        if unknown:
            raise ConfigError(f"{AREAS}: area {a.name}: unknown indicator(s) {sorted(unknown)}; known: {sorted(ids)}")
    unknown = set(breakdowns) - set(defs["inputs"])
    if unknown:
        raise ConfigError(f"{BREAKDOWNS}: unknown input(s) {sorted(unknown)}; known: {sorted(defs['inputs'])}")
