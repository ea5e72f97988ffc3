"""What every connector returns, and the one place values are coerced to the declared field types.

Raw values are not cleaned here: a value that cannot be represented in its declared type is not
guessed at. Its row is quarantined with the reason (source, key or row, column, value, expected
type) and every other row is loaded, so rows read = rows extracted + rows quarantined.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol, runtime_checkable

import pyarrow as pa

from model.mapping import EntitySpec

ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "decimal": pa.float64(), "date": pa.string()}


class SourceError(RuntimeError):
    """A source cannot be read as its mapping says (missing, unreachable, changed schema).

    ``transient`` marks errors worth retrying (a dropped connection, a server restarting), as opposed
    to ones that will fail the same way until someone acts (a missing table, a changed column type).
    """

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass
class Extract:
    """One entity as extracted: canonical columns plus pedigree, and the rows that were set aside."""

    table: pa.Table
    rows_read: int
    # rows set aside: {source, key, column, value, reason}; key None = a whole file that could not be used
    quarantined: list[dict] = field(default_factory=list)
    source: str = ""  # what was read, for messages (never contains credentials)

    @property
    def rows_quarantined(self) -> int:
        return sum(q["key"] is not None for q in self.quarantined)

    @property
    def files_rejected(self) -> int:
        return sum(q["key"] is None for q in self.quarantined)


@runtime_checkable
class Source(Protocol):
    """The one shape of a source client (SqlSource, FileSource, MemorySource). ``location`` names what is
    read, for messages and the batch record, never with credentials. Clients of SQL sources can also read
    incrementally: ``extract(entity, since=…)`` and ``extract_keys(entity)`` (SqlSource, MemorySource).

    ``probe(entity)`` is a cheap fingerprint of what ``extract(entity)`` would return, computed without reading
    the rows out (the client says how: docs/mapping.md, "No-change nights"): equal probes mean equal content.
    None when the client cannot tell (a database without a row hash, a file still being written): the table is
    then read every run."""

    location: str

    def extract(self, entity: EntitySpec) -> Extract: ...

    def probe(self, entity: EntitySpec) -> str | None: ...

    def close(self) -> None: ...


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (drops, output files, backups)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _Invalid(ValueError):
    pass


def _to_string(v):
    if isinstance(v, str):
        return v
    if isinstance(v, bool):  # as Arrow writes it, so both read paths agree
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return str(v)


def _to_int(v):
    if isinstance(v, bool):
        raise _Invalid
    if isinstance(v, int):
        return v
    if isinstance(v, (float, Decimal)) and v == int(v):
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v.strip())
    raise _Invalid


def _to_float(v):
    if isinstance(v, bool):
        raise _Invalid
    if isinstance(v, (int, float, Decimal)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip().replace(",", ""))
        except ValueError:
            raise _Invalid from None
    raise _Invalid


FULLWIDTH = {
    **{0xFF10 + i: 0x30 + i for i in range(10)},
    **{0xFF21 + i: 0x41 + i for i in range(26)},
    **{0xFF41 + i: 0x61 + i for i in range(26)},
    0x3000: 0x20,
    0xFF0E: 0x2E,
    0xFF0D: 0x2D,
}
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?|\s*月?)$")
EXCEL_EPOCH = date(1899, 12, 30)


def normalise_text(v) -> str:
    """Full-width digits, letters and spaces as ASCII, surrounding spaces removed (form, not meaning)."""
    return str(v).translate(FULLWIDTH).strip()


def date_text(v) -> str:
    """A date value as ISO text: date objects, Excel serial numbers, and text such as 2023年9月1日,
    2023/9/1, 2023.09.01, 20230901. Anything else is returned as written (staging will judge it)."""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 1 <= v < 2958466:
        return (EXCEL_EPOCH + timedelta(days=int(v))).isoformat()
    s = normalise_text(v)
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = _DATE_TEXT.match(s)
    if m:
        y, mo, d = m.groups()
        return f"{y}-{int(mo):02d}-{int(d):02d}" if d else f"{y}-{int(mo):02d}"
    return s


_CONVERT = {"string": _to_string, "integer": _to_int, "decimal": _to_float, "date": date_text}


def coerce(
    entity: EntitySpec, columns: dict[str, list], labels: list[str], where: str
) -> tuple[dict[str, pa.Array], list[dict]]:
    """Turn per-field value lists into typed Arrow arrays.

    ``labels`` names each row for messages (the source key, or file/sheet/row). Returns the arrays
    (rows with an unconvertible value or an empty primary key removed) and the quarantine records.
    """
    n = len(labels)
    bad: dict[int, dict] = {}
    arrays = {}
    for name, values in columns.items():
        spec = entity.fields.get(name)
        ftype = spec.type if spec else "string"
        target = ARROW_TYPES[ftype]
        try:
            if ftype == "integer" or ftype == "decimal":
                arrays[name] = pa.array(values, type=target)  # fast path: already numbers
                continue
            if all(v is None or isinstance(v, str) for v in values):
                arrays[name] = pa.array(values, type=target)
                continue
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            pass
        conv = _CONVERT[ftype]
        out = []
        for i, v in enumerate(values):
            if v is None or (isinstance(v, float) and v != v):
                out.append(None)
                continue
            try:
                out.append(conv(v))
            except (_Invalid, ValueError, OverflowError):
                out.append(None)
                column = spec.column if spec else name
                bad.setdefault(
                    i,
                    dict(
                        source=where,
                        key=labels[i],
                        column=column,
                        value=str(v)[:200],
                        reason=f"{column}: expected {ftype}, found {v!r:.60}",
                    ),
                )
        arrays[name] = pa.array(out, type=target)
    for i in range(n):
        if i in bad:
            continue
        empty = [k for k in entity.primary_key if k in arrays and arrays[k][i].as_py() in (None, "")]
        if empty:
            cols = ", ".join(entity.fields[k].column if k in entity.fields else k for k in empty)
            bad[i] = dict(
                source=where,
                key=labels[i],
                column=cols,
                value=None,
                reason=f"primary key {cols} is empty: the row cannot be identified",
            )
    if bad:
        keep = pa.array([i not in bad for i in range(n)])
        arrays = {k: a.filter(keep) for k, a in arrays.items()}
    return arrays, [bad[i] for i in sorted(bad)]
