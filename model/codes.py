"""National code tables shipped as data files (model/codes/<table>.csv).

Each file has at least the columns ``code`` and ``name``; codes are kept as text so that
leading zeros survive (``01`` 汉族 is not ``1``).
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
