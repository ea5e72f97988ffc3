"""Peer benchmarks: per core indicator and school type, the provincial or national p25 / median / p75 of a year,
with its source, read from a CSV a college fills (``<college folder>/benchmarks.csv``, else the shipped sample,
which is marked 示例数据，非真实统计 on every row), and where the college's value falls among them."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

SAMPLE = Path(__file__).parent / "benchmarks_sample.csv"
COLUMNS = ("indicator", "school_type", "scope", "year", "p25", "median", "p75", "source", "sample")
BELOW, LOWER, UPPER, ABOVE = "低于P25", "P25–中位数", "中位数–P75", "高于P75"
SAMPLE_MARK = "示例数据，非真实统计"


class BenchmarkError(ValueError):
    """The benchmark file cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class Benchmark:
    indicator: str  # the indicator's name (生师比) or id (student_teacher_ratio)
    school_type: str  # a school type, or * for every type
    scope: str  # 全国, 省级, or the province's name
    year: str
    p25: float
    median: float
    p75: float
    source: str
    sample: str  # non-empty: not real statistics (the report says so wherever it uses the row)
    file: str
    line: int

    def place(self, value: float | None) -> str:
        return placement(value, self.p25, self.median, self.p75)


def placement(value: float | None, p25: float, median: float, p75: float) -> str:
    """Where a value falls: below p25, p25 to the median, the median to p75, above p75. A value on a boundary
    belongs to the band above it (p25 itself is 'P25–中位数'), except p75, which is still 'median–p75'."""
    if value is None:
        return "无法计算"
    if value < p25:
        return BELOW
    if value < median:
        return LOWER
    if value <= p75:
        return UPPER
    return ABOVE


def location(college_dir: Path | None) -> Path:
    """The college's own benchmark file if it has one, else the shipped sample."""
    own = Path(college_dir) / "benchmarks.csv" if college_dir else None
    return own if own is not None and own.is_file() else SAMPLE


def load(path: Path, shown_as: str | None = None) -> list[Benchmark]:
    """Every row of a benchmark file (lines starting with # are comments). ``shown_as``: the file's name as the
    report prints it (the trace appendix cites file and line)."""
    name = shown_as or str(path)
    text = Path(path).read_text(encoding="utf-8-sig")
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    body = [(n, line) for n, line in lines if not line.lstrip().startswith("#")]
    if not body:
        raise BenchmarkError(f"{name}: no header line; expected columns {', '.join(COLUMNS)}")
    header = next(csv.reader(io.StringIO(body[0][1])))
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise BenchmarkError(f"{name}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    out = []
    for n, line in body[1:]:
        row = dict(zip(header, next(csv.reader(io.StringIO(line)))))
        try:
            p25, median, p75 = (float(row[c]) for c in ("p25", "median", "p75"))
        except (TypeError, ValueError):
            raise BenchmarkError(f"{name}, line {n}: p25, median and p75 must be numbers") from None
        if not p25 <= median <= p75:
            raise BenchmarkError(f"{name}, line {n}: p25 <= median <= p75 does not hold ({p25}, {median}, {p75})")
        if not (row.get("indicator") or "").strip():
            raise BenchmarkError(f"{name}, line {n}: the indicator is empty")
        out.append(
            Benchmark(
                indicator=row["indicator"].strip(),
                school_type=(row.get("school_type") or "*").strip() or "*",
                scope=(row.get("scope") or "").strip(),
                year=(row.get("year") or "").strip(),
                p25=p25,
                median=median,
                p75=p75,
                source=(row.get("source") or "").strip(),
                sample=(row.get("sample") or "").strip(),
                file=name,
                line=n,
            )
        )
    return out


def for_indicator(benchmarks: list[Benchmark], indicator_id: str, name: str, school_type: str) -> list[Benchmark]:
    """The rows of one indicator for the school type, one per scope: the school type's own row, else the row for
    every type (*); the newest year when a scope has several."""
    rows = [b for b in benchmarks if b.indicator in (indicator_id, name) and b.school_type in (school_type, "*")]
    best: dict[str, Benchmark] = {}
    for b in rows:
        have = best.get(b.scope)
        rank = (b.school_type != "*", b.year)
        if have is None or rank > (have.school_type != "*", have.year):
            best[b.scope] = b
    return [best[s] for s in sorted(best, key=lambda s: (s != "全国", s))]
