"""The report's charts as PNG bytes, drawn with matplotlib's Agg canvas (no pyplot, no global backend): indicator
trends as small multiples with their thresholds, and horizontal bar charts (students per major, teachers per
department, failing rules per department). The same chart gives the same bytes: fixed size and dpi, no software or
time stamp in the file, a font chosen once per process from a fixed preference list.

Chinese labels need a CJK font: the first of CJK_FONTS the system has (Debian: fonts-wqy-microhei or
fonts-noto-cjk). Without one the charts are still drawn (the labels' Chinese characters as boxes) and a warning
says which package to install.
"""

import io
import math
import warnings
from contextlib import suppress
from dataclasses import dataclass
from functools import cache

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

CJK_FONTS = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
DPI = 100
WIDTH = 9.0  # inches: 900 px, fits an A4 page at 16 cm
PASS_COLOUR, LIMIT_COLOUR, BAR, HIGHLIGHT, PREVIOUS = "#2e7d32", "#c62828", "#4472c4", "#ed7d31", "#b4c7e7"


class NoCJKFont(UserWarning):
    """No font with Chinese glyphs is installed: the charts' Chinese labels are drawn as boxes."""


@dataclass(frozen=True)
class TrendChart:
    """One small panel per indicator: its value per year and its 合格 (and 限制招生) line."""

    title: str
    years: tuple[str, ...]
    series: tuple[tuple[str, str, tuple[float | None, ...], float | None, float | None], ...]  # name, unit, values,
    # pass threshold, limit threshold


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, largest first; ``highlight`` bars in another colour; ``previous`` (the same groups' values
    a year earlier) drawn as thin bars behind."""

    title: str
    unit: str
    bars: tuple[tuple[str, float], ...]
    highlight: tuple[str, ...] = ()
    previous: tuple[tuple[str, float], ...] = ()
    legend: tuple[str, str] = ("", "")  # (this year's label, the previous year's)


@cache
def cjk_font() -> str | None:
    """The CJK font family the charts use, or None (with a warning, once) when the system has none. Matplotlib lists
    the system's fonts once and caches the list: a font installed since is added here."""
    found = _listed_cjk_font()
    if found is None:
        fonts = font_manager.fontManager
        listed = {f.fname for f in fonts.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in listed:
                with suppress(OSError, RuntimeError, ValueError):  # a file FreeType cannot read
                    fonts.addfont(path)
        found = _listed_cjk_font()
    if found is not None:
        return found
    warnings.warn(
        "no CJK font found for the report's charts: Chinese labels will show as boxes; install one, e.g. "
        "`apt-get install fonts-wqy-microhei` (Debian)",
        NoCJKFont,
        stacklevel=2,
    )
    return None


def _listed_cjk_font() -> str | None:
    have = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in have), None)


def _rc() -> dict:
    font = cjk_font()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": ([font] if font else []) + ["DejaVu Sans"],
        "axes.unicode_minus": False,  # a CJK font may lack U+2212
        "font.size": 9,
        "svg.hashsalt": "statedata",
        "path.simplify": True,
    }


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")  # without a CJK font: boxes, said once
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def render(chart: TrendChart | BarChart) -> bytes:
    with rc_context(_rc()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _trend(chart) if isinstance(chart, TrendChart) else _bars(chart)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _trend(chart: TrendChart) -> bytes:
    cols = 3
    rows = max(1, math.ceil(len(chart.series) / cols))
    fig = Figure(figsize=(WIDTH, 2.1 * rows + 0.7), dpi=DPI)
    height = 2.1 * rows + 0.7
    fig.suptitle(chart.title, fontsize=11, y=1 - 0.12 / height, va="top")
    x = list(range(len(chart.years)))
    for n, (name, unit, values, passing, limit) in enumerate(chart.series):
        ax = fig.add_subplot(rows, cols, n + 1)
        points = [(i, v) for i, v in zip(x, values) if v is not None]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=BAR, linewidth=1.5)
            for i, v in points:
                ax.annotate(_number(v), (i, v), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=7)
        if passing is not None:
            ax.axhline(passing, color=PASS_COLOUR, linestyle="--", linewidth=1)
        if limit is not None:
            ax.axhline(limit, color=LIMIT_COLOUR, linestyle=":", linewidth=1)
        ax.set_title(f"{name}（{unit}）" if unit else name, fontsize=8)
        ax.set_xticks(x, [y.replace("-", "-\n") if len(x) > 3 else y for y in chart.years], fontsize=7)
        ax.set_xlim(-0.5, len(x) - 0.5)
        ax.tick_params(axis="y", labelsize=7)
        ax.margins(y=0.25)
    fig.text(0.01, 0.08 / height, "虚线：合格标准；点线：限制招生线", fontsize=7, color="#555555")
    # a fixed layout (tight_layout measures every label: 5x slower, and the panels are alike anyway)
    fig.subplots_adjust(left=0.06, right=0.98, top=1 - 0.75 / height, bottom=0.6 / height, wspace=0.28, hspace=0.65)
    return _png(fig)


def _bars(chart: BarChart) -> bytes:
    bars = sorted(chart.bars, key=lambda b: (-b[1], b[0]))
    height = max(2.0, 0.32 * len(bars) + 1.0)
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    ax = fig.add_subplot(1, 1, 1)
    y = list(range(len(bars)))[::-1]
    previous = dict(chart.previous)
    if previous:
        ax.barh(y, [previous.get(b[0], 0) for b in bars], height=0.8, color=PREVIOUS)
    colours = [HIGHLIGHT if b[0] in chart.highlight else BAR for b in bars]
    ax.barh(y, [b[1] for b in bars], height=0.5 if previous else 0.7, color=colours)
    for yi, (_, v) in zip(y, bars):
        ax.annotate(_number(v), (v, yi), textcoords="offset points", xytext=(3, -3), fontsize=7)
    ax.set_yticks(y, [b[0] for b in bars], fontsize=8)
    ax.set_xlabel(chart.unit)
    ax.set_title(chart.title, fontsize=11)
    ax.margins(x=0.12)
    if previous:
        handles = [Patch(color=BAR, label=chart.legend[0]), Patch(color=PREVIOUS, label=chart.legend[1])]
        ax.legend(handles=handles, loc="lower right", fontsize=7)
    # a fixed layout from the longest label (tight_layout measures every text: several times slower)
    longest = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in b[0]) for b in bars), default=4)
    fig.subplots_adjust(
        left=min(0.45, 0.03 + 0.0075 * longest), right=0.97, top=1 - 0.45 / height, bottom=0.55 / height
    )
    return _png(fig)
