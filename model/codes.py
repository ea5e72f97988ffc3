"""National code tables shipped as data files (model/codes/<table>.csv; their sources in SOURCES.md).

Each file has at least the columns ``code`` and ``name``; codes are kept as text so that
leading zeros survive (``01`` 汉族 is not ``1``). A college may add codes to a table (a title its
province awards, a major added to the catalogue this year) in its folder: ``codes/<table>.csv``, same
columns; the warehouse loads both (``warehouse.db.init``), and the checks read them from there.
"""

import csv
from functools import cache
from pathlib import Path

CODES_DIR = Path(__file__).parent / "codes"


def code_table_names() -> list[str]:
    return sorted(p.stem for p in CODES_DIR.glob("*.csv"))


@cache
def load_code_table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of one code table as dicts (cached, read-only tuple)."""
    path = CODES_DIR / f"{name}.csv"
    if not path.exists():
        raise KeyError(f"no national code table {name!r}; known: {', '.join(code_table_names())}")
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


def code_names(name: str) -> dict[str, str]:
    """Mapping code -> name for one code table."""
    return {row["code"]: row["name"] for row in load_code_table(name)}


def college_additions(folder: Path | None) -> dict[str, tuple[dict[str, str], ...]]:
    """A college's code additions (``<college>/codes/<table>.csv``), by national table; a file for a table that
    does not exist, or without code and name columns, raises ValueError naming it."""
    if folder is None or not Path(folder).is_dir():
        return {}
    out = {}
    for path in sorted(Path(folder).glob("*.csv")):
        if path.stem not in code_table_names():
            raise ValueError(
                f"{path}: no national code table {path.stem!r} to add to; known: {', '.join(code_table_names())}"
            )
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = tuple(csv.DictReader(f))
        if rows and not {"code", "name"} <= set(rows[0]):
            raise ValueError(f"{path}: expected the columns code and name (as model/codes/{path.name})")
        out[path.stem] = rows
    return out
