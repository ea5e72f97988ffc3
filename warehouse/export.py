"""Writing the national tables as .xlsx files, one per template table, all or nothing.

The files of one academic year are written to a temporary folder first and swapped in only when
every table is written, so a failed run leaves the last good outputs untouched. Workbook metadata
is fixed, so the same data gives byte-identical files.
"""

import hashlib
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import xlsxwriter

from warehouse.db import qualified, quote
from warehouse.templates import TableTemplate, TemplatePack

FIXED_TIME = datetime(2000, 1, 1)


@dataclass
class ExportedFile:
    table_id: str
    number: str
    name: str
    path: Path
    rows: int
    sha256: str


def table_query(t: TableTemplate) -> tuple[str, list]:
    cols = ", ".join(quote(c.field) for c in t.columns)
    filters = " and ".join(f"{quote(k)} = ?" for k, _ in t.where)
    sql = (
        f"select {cols} from {qualified('platform', t.source_table)} where academic_year = ?"
        f"{' and ' + filters if filters else ''} order by {', '.join(quote(k) for k in t.key)}"
    )
    return sql, [v for _, v in t.where]


def write_table(con: duckdb.DuckDBPyConnection, t: TableTemplate, academic_year: str, path: Path) -> int:
    sql, params = table_query(t)
    try:
        reader = con.sql(sql, params=[academic_year, *params]).to_arrow_reader(50_000)
    except duckdb.BinderException as e:
        raise RuntimeError(
            f"template table {t.number} {t.name}: a column is not produced by platform.{t.source_table}: {e}"
        ) from None
    wb = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    wb.set_properties({"created": FIXED_TIME, "author": "statedata", "title": f"{t.number} {t.name}"})
    ws = wb.add_worksheet(t.number[:31])
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    ws.write_row(0, 0, [c.header for c in t.columns], head)
    ws.freeze_panes(1, 0)
    n = 0
    for batch in reader:
        for row in zip(*(col.to_pylist() for col in batch.columns)):
            n += 1
            ws.write_row(n, 0, row)
    wb.close()
    return n


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_year(
    con: duckdb.DuckDBPyConnection, pack: TemplatePack, academic_year: str, folder: Path
) -> list[ExportedFile]:
    """Write every table of the pack into ``folder`` (replacing it only when all succeeded)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    out = []
    try:
        for t in pack.tables:
            rows = write_table(con, t, academic_year, tmp / t.file_name)
            out.append(ExportedFile(t.id, t.number, t.name, folder / t.file_name, rows, sha256(tmp / t.file_name)))
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
