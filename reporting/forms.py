"""Department forms: the blank workbook a department fills for a national table no system holds.

The layout is the one the forms mapping (``demo_campus/college/mappings/forms.yaml``) reads back:

* row 1: the school, the table and the academic year;
* row 2: 填报部门 <department> | 填报人 <to fill> | 填报日期 <to fill>;
* row 3: the column headers (required columns in red), data from row 4;
* a second sheet, 填写说明, explains every column (type, required, code table).

The demo generator fills the same workbook, so the demo exercises exactly what departments get.
"""

from datetime import date
from pathlib import Path

import duckdb
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from model.codes import load_code_table
from model.mapping import EntitySpec, SourceSpec
from reporting.workbook import FIXED_TIME  # workbook metadata is fixed: the same form gives the same bytes
from warehouse import db

TYPE_HELP = {"string": "文本", "integer": "整数", "decimal": "数值（可带小数）", "date": "日期（如 2026-09-01）"}


def form_file_name(entity: EntitySpec, academic_year: str) -> str:
    """``2025-2026_重大制度创新.xlsx``: matches the entity's ``files`` glob and ``academic_year`` regex."""
    return f"{academic_year}_{entity.description}.xlsx"


def form_department(spec: SourceSpec, entity: EntitySpec) -> str:
    return entity.department or spec.department


def write_form(
    path: Path,
    spec: SourceSpec,
    entity: EntitySpec,
    academic_year: str,
    school_name: str,
    rows: list[dict] | None = None,
    filled_by: str | None = None,
    filled_on: date | None = None,
) -> Path:
    """Write the form for one academic year; ``rows`` (field -> value) pre-fill it (the demo does)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(entity.fields.values())
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"created": FIXED_TIME, "author": "statedata", "title": entity.description})
    title = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
    label = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    blank = wb.add_format({"border": 1, "bg_color": "#FFF2CC"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    head_required = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_color": "#C00000"})
    ws = wb.add_worksheet(entity.description[:31])
    ws.merge_range(
        0, 0, 0, max(len(fields) - 1, 5), f"{school_name} {entity.description}（{academic_year}学年）".strip(), title
    )
    for col, text in ((0, "填报部门"), (2, "填报人"), (4, "填报日期")):
        ws.write(1, col, text, label)
    ws.write(1, 1, form_department(spec, entity))
    ws.write(1, 3, filled_by or "", blank)
    ws.write(1, 5, filled_on.isoformat() if filled_on else "", blank)
    for i, f in enumerate(fields):
        ws.write(2, i, f.column, head_required if f.required else head)
        ws.set_column(i, i, max(10, min(30, 2 * len(f.column))))
    ws.freeze_panes(3, 0)
    for r, row in enumerate(rows or [], start=3):
        ws.write_row(r, 0, [_value(row.get(f.name)) for f in fields])
    _code_lists(wb, ws, fields, first_row=3)
    notes = wb.add_worksheet("填写说明")
    notes.write_row(0, 0, ["列名", "类型", "是否必填", "代码表"], head)
    for i, f in enumerate(fields, start=1):
        notes.write_row(i, 0, [f.column, TYPE_HELP[f.type], "必填" if f.required else "", f.codes or ""])
    notes.write(len(fields) + 2, 0, "填写后请保留第1–3行；填报人、填报日期必填，否则文件不予导入。")
    notes.set_column(0, 0, 30)
    wb.close()
    return path


def _code_lists(wb: xlsxwriter.Workbook, ws, fields: list, first_row: int) -> None:
    """A drop-down of the national codes (code and name) on every coded column, from a hidden sheet."""
    coded = [(i, f) for i, f in enumerate(fields) if f.codes]
    if not coded:
        return
    lists = wb.add_worksheet("代码表")
    for j, (i, f) in enumerate(coded):
        codes = load_code_table(f.codes)
        lists.write(0, j, f.column)
        lists.write_column(1, j, [r["code"] for r in codes])
        col = xl_col_to_name(j)
        ws.data_validation(
            first_row, i, first_row + 2000, i,
            {
                "validate": "list",
                "source": f"='代码表'!${col}$2:${col}${len(codes) + 1}",
                "error_title": f.column,
                "error_message": f"请填写{f.codes}代码表中的代码（见“代码表”工作表）",
            },
        )  # fmt: skip
    lists.hide()


def _value(v):
    if isinstance(v, date):
        return v.isoformat()
    return v


def loaded_school_name(warehouse: Path) -> str:
    """The school's name from the warehouse, if it has been loaded; forms are usable without it."""
    try:
        with db.connect(warehouse, read_only=True) as con:
            rows = con.execute("select school_name from core.school").fetchall()
        return rows[0][0] if rows else ""
    except (db.WarehouseError, duckdb.Error):  # no warehouse or no school yet: the form is correct without it
        return ""
