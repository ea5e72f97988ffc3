"""Writing the national tables as .xlsx files, one per template table, all or nothing.

The files of one academic year are written to a new folder and published by one rename only when every
table is written (reporting/publish.py), so a failed or killed run leaves the last good outputs untouched.
Workbook metadata is fixed, so the same data gives byte-identical files.
"""

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import xlsxwriter

from connectors.base import file_sha256 as sha256
from reporting.publish import publish, unpublish
from reporting.review_list import FILE_NAME, write_review_list
from reporting.templates import TableTemplate, TemplatePack
from reporting.workbook import FIXED_TIME, school_of
from warehouse import builds, offload
from warehouse.db import qualified, quote


@dataclass
class ExportedFile:
    table_id: str
    number: str
    name: str
    path: Path
    rows: int
    sha256: str
    copied: bool = False  # from the last file written, its rows and marking unchanged (export_year reuse)


def table_query(t: TableTemplate) -> tuple[str, list]:
    cols = ", ".join(quote(c.field) for c in t.columns)
    filters = " and ".join(f"{quote(k)} = ?" for k, _ in t.where)
    sql = (
        f"select {cols} from {qualified('platform', t.source_table)} where academic_year = ?"
        f"{' and ' + filters if filters else ''} order by {', '.join(quote(k) for k in t.key)}"
    )
    return sql, [v for _, v in t.where]


OFFLOAD_CELLS = 100_000  # a smaller table is written here: handing it over would cost more than writing it
DRAFT_NOTE = "草稿：本学年数据未通过错误级校验，不得上报"


def write_table(
    con: duckdb.DuckDBPyConnection, t: TableTemplate, academic_year: str, path: Path, draft: list[str] | None = None
) -> int:
    """Write one national table. ``draft``: the failing error rules; the workbook then carries a red
    tab, a 草稿 page header and a second sheet, 草稿说明, listing them (the table sheet stays as it is)."""
    return write_rows(_rows(con, t, academic_year).to_arrow_reader(50_000), t, path, draft)


def _rows(con: duckdb.DuckDBPyConnection, t: TableTemplate, academic_year: str) -> duckdb.DuckDBPyRelation:
    sql, params = table_query(t)
    try:
        return con.sql(sql, params=[academic_year, *params])
    except duckdb.BinderException as e:
        raise RuntimeError(
            f"template table {t.number} {t.name}: a column is not produced by platform.{t.source_table}: {e}"
        ) from None


def write_rows(batches: Iterable[pa.RecordBatch], t: TableTemplate, path: Path, draft: list[str] | None = None) -> int:
    """Write one national table from its rows (write_table; in the second process, export_year)."""
    wb = xlsxwriter.Workbook(
        str(path),
        # constant_memory writes row by row; a two-row header goes back to row 0, so those (small) tables don't use it
        {
            "constant_memory": t.header_depth == 1,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties({"created": FIXED_TIME, "author": "statedata", "title": f"{t.number} {t.name}"})
    ws = wb.add_worksheet(t.number[:31])
    if draft:
        ws.set_tab_color("#C00000")
        ws.set_header(f"&C&14&KC00000{DRAFT_NOTE}")
    depth = write_header(wb, ws, t)
    n = 0
    for batch in batches:
        for row in zip(*(col.to_pylist() for col in batch.columns)):
            if ws.write_row(depth + n, 0, row) == -2:  # xlsxwriter cuts a string over 32,767 characters
                wb.close()
                raise ValueError(
                    f"{t.number} {t.name}, row {n + 1}: a value is longer than an Excel cell holds (32,767 "
                    "characters) and would be cut; the raw loader quarantines such source values, so it was "
                    "built by the table's SQL"
                )
            n += 1
    if draft:
        note = wb.add_worksheet("草稿说明")
        note.set_tab_color("#C00000")
        note.set_column(0, 0, 100)
        note.write_column(0, 0, [DRAFT_NOTE, "未通过的错误级规则（statedata failures 列出需修正的源数据行）：", *draft])
    wb.close()
    return n


def write_header(wb: xlsxwriter.Workbook, ws, t: TableTemplate) -> int:
    """The table's header: one row, or two when columns share a group (the group cell merged above them,
    a column without a group merged over both rows). Returns the number of header rows."""
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "valign": "vcenter"})
    depth = t.header_depth
    for i, c in enumerate(t.columns):  # before any cell (constant_memory): about two units a Chinese character
        ws.set_column(i, i, max(8, min(40, 2 * len(c.header) + 2)))
    if depth == 1:
        ws.write_row(0, 0, [c.header for c in t.columns], head)
    else:
        i = 0
        while i < len(t.columns):
            c = t.columns[i]
            if not c.group:
                ws.merge_range(0, i, 1, i, c.header, head)
                i += 1
                continue
            j = i
            while j + 1 < len(t.columns) and t.columns[j + 1].group == c.group:
                j += 1
            if j > i:
                ws.merge_range(0, i, 0, j, c.group, head)
            else:
                ws.write(0, i, c.group, head)
            ws.write_row(1, i, [x.header for x in t.columns[i : j + 1]], head)
            i = j + 1
    ws.freeze_panes(depth, 0)
    return depth


def export_year(
    con: duckdb.DuckDBPyConnection,
    pack: TemplatePack,
    academic_year: str,
    folder: Path,
    draft: list[str] | None = None,
    reuse: bool = False,
    run_id: str = "",
) -> list[ExportedFile]:
    """Write every table of the pack into ``folder`` (replacing it only when all succeeded).
    ``draft``: the failing error rules, which mark every workbook as a draft (write_table). ``reuse``: a table
    whose rows and draft marking are as when its file was last written is copied from that file, not written
    again (the caller knows the templates and the code that writes them are unchanged)."""
    folder = Path(folder)

    def fill(tmp: Path) -> list[ExportedFile]:
        tables = pack.ordered_tables()
        keys = {t.id: _file_key(con, t, academic_year, draft) for t in tables}
        rows = {
            t.id: _copied(con, t, academic_year, keys[t.id][0], tmp / t.file_name) if reuse else None for t in tables
        }
        written = {t.id for t in tables if rows[t.id] is None}
        # the files to write, the largest (in cells) first, shared between this process and the second
        # (warehouse/offload.py) so that both take about as long
        todo = sorted((t for t in tables if t.id in written), key=lambda t: -keys[t.id][1] * len(t.columns))
        load, here, there = [0, 0], [], {}
        for t in todo:
            cells = keys[t.id][1] * len(t.columns)
            if cells >= OFFLOAD_CELLS and offload.available() and load[1] <= load[0]:
                batches = _rows(con, t, academic_year).to_arrow_table().to_batches()
                there[t.id] = offload.submit(write_rows, batches, t, tmp / t.file_name, draft)
                load[1] += cells
            else:
                here.append(t)
                load[0] += cells
        for t in here:
            rows[t.id] = write_table(con, t, academic_year, tmp / t.file_name, draft)
        n = write_review_list(con, academic_year, tmp / FILE_NAME, draft)
        for table_id, task in there.items():
            rows[table_id] = task.result()
        out = []
        for t in tables:
            digest = sha256(tmp / t.file_name)
            # a run's files are on record (written, not copied: their key or bytes are new); a copy made outside a
            # run (a read-only connection, no run) is not
            if run_id and builds.recorded(con, "export", t.id, academic_year) != (keys[t.id][0], digest):
                builds.record(con, "export", t.id, academic_year, keys[t.id][0], digest, run_id)
            copied = t.id not in written
            out.append(ExportedFile(t.id, t.number, t.name, folder / t.file_name, rows[t.id], digest, copied))
        out.append(ExportedFile("review_list", "", "核心数据复核清单", folder / FILE_NAME, n, sha256(tmp / FILE_NAME)))
        return out

    return publish(folder.parent, folder.name, fill)


def _file_key(
    con: duckdb.DuckDBPyConnection, t: TableTemplate, academic_year: str, draft: list[str] | None
) -> tuple[str, int]:
    """What a table's file is made of (its layout, the content of the rows it shows and its draft marking), and how
    many rows it shows."""
    sql, params = table_query(t)
    ((n, total),) = con.execute(
        f"select count(*), coalesce(sum(hash(q)::hugeint), 0) from ({sql}) as q", [academic_year, *params]
    ).fetchall()
    layout = [t.number, t.name, [(c.group, c.header) for c in t.columns]]
    return builds.digest([sql, params, academic_year, f"{n}:{total}", layout, draft or []]), n


def _copied(
    con: duckdb.DuckDBPyConnection, t: TableTemplate, academic_year: str, file_key: str, target: Path
) -> int | None:
    """Copy the table's last exported file to ``target`` when it was written from ``file_key`` and is still as it was
    written; its row count, else None."""
    rows = con.execute(
        "select path, row_count, sha256 from audit.export_log where academic_year = ? and table_id = ? "
        "order by written_at desc, rowid desc limit 1",
        [academic_year, t.id],
    ).fetchall()
    last = rows[0] if rows else None
    if last is None or builds.recorded(con, "export", t.id, academic_year) != (file_key, last[2]):
        return None
    path = Path(last[0])
    if not path.is_file() or sha256(path) != last[2]:
        return None
    shutil.copyfile(path, target)
    return last[1]


def exported_files(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict]:
    """The files one run wrote (audit.export_log), in the order written."""
    rows = con.execute(
        "select table_id, path, row_count, sha256 from audit.export_log where run_id = ? order by rowid", [run_id]
    ).fetchall()
    return [dict(zip(("table", "path", "rows", "sha256"), r)) for r in rows]


def publish_year(
    con: duckdb.DuckDBPyConnection,
    pack: TemplatePack,
    academic_year: str,
    out_dir: Path,
    blocking: list[str],
    run_id: str,
    reuse: bool = False,
) -> tuple[Path, list[ExportedFile]]:
    """Write the year's tables to ``out_dir/<school code>_<year>``, or, while error rules fail (``blocking``:
    one line each), to the ``…_draft`` folder beside it, each workbook marked; the last good folder stays.
    A clean export removes the stale draft. Every file is recorded in audit.export_log for the run. ``reuse``: see
    export_year."""
    school = school_of(con, academic_year)
    good = Path(out_dir) / f"{school[0] if school else 'school'}_{academic_year}"
    draft = good.with_name(good.name + "_draft")
    folder = draft if blocking else good
    files = export_year(con, pack, academic_year, folder, blocking or None, reuse, run_id)
    if not blocking:  # a draft of data since fixed would only mislead
        unpublish(draft.parent, draft.name)
    con.executemany(
        "insert into audit.export_log values (?, ?, ?, ?, ?, ?, now())",
        [[run_id, academic_year, f.table_id, str(f.path), f.rows, f.sha256] for f in files],
    )
    return folder, files
