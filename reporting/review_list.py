"""The 核心数据复核清单 (core-data review list): every core indicator with its inputs, threshold and
verdict, laid out for the college's leaders to check and sign. Workbook metadata is fixed, so the
same indicators give the same bytes."""

import json
from pathlib import Path

import duckdb
import xlsxwriter

from reporting.workbook import FIXED_TIME, school_of

FILE_NAME = "核心数据复核清单.xlsx"
HEADERS = [
    "序号",
    "指标类别",
    "指标",
    "计算公式",
    "输入数据",
    "本校值",
    "单位",
    "合格标准",
    "结论",
    "限制招生标准",
    "限制招生结论",
    "标准依据",
]


def _threshold(compare: str, value, missing: str = "未设标准") -> str:
    return missing if value is None else f"{'≥' if compare == '>=' else '≤'} {value:g}"


# the 限制招生 lines are left to the college (reporting/indicators/*.yaml: not confirmed from the document)
NO_LIMIT = "待学校填写（文件表二）"


def _why(reason: str) -> str:
    """A draft's reason as the reader of the list says it."""
    kind, _, what = reason.partition(":")
    if kind == "unsigned":
        return f"{what} 未签署上报确认书"
    if kind == "unreconciled":
        return f"{what} 待全量核对"
    return reason if " " in reason else f"规则 {reason} 未通过"  # a description already, or a bare rule id


def write_review_list(
    con: duckdb.DuckDBPyConnection, academic_year: str, path: Path, draft: list[str] | None = None
) -> int:
    """``draft``: why the tables are not for submission (failing error rules …): the list then says DRAFT in its
    title and above its signature block, which nobody should sign."""
    code, name = school_of(con, academic_year) or ("", "")
    rows = con.execute(
        """select seq, indicator_group, name, formula, inputs, value, unit, compare, pass_threshold, pass_result,
                  limit_threshold, limit_result, threshold_source, school_type, document
           from platform.core_indicator where academic_year = ? order by seq""",
        [academic_year],
    ).fetchall()
    if not rows:
        raise RuntimeError(f"no core indicators for {academic_year}: materialize platform/core_indicator first")
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"created": FIXED_TIME, "author": "statedata", "title": f"核心数据复核清单 {academic_year}"})
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    note = wb.add_format({"font_size": 10})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "text_wrap": True})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    bad = wb.add_format({"border": 1, "font_color": "#C00000", "bold": True, "valign": "top"})
    ws = wb.add_worksheet("核心数据复核清单")
    last = len(HEADERS) - 1
    marked = "【草稿，不得用于上报】" if draft else ""
    ws.merge_range(0, 0, 0, last, f"{marked}{name} 人才培养工作状态数据 核心数据复核清单（{academic_year}学年）", title)
    ws.merge_range(
        1,
        0,
        1,
        last,
        f"学校标识码：{code}    学校类型（标准适用）：{rows[0][13]}    "
        f"依据：{rows[0][14]}；双师素质教师比例按质量年报口径。",
        note,
    )
    ws.write_row(3, 0, HEADERS, head)
    for i, r in enumerate(rows, start=4):
        seq, group, ind, formula, inputs, value, unit, compare, passing, verdict, limit, limit_verdict, src = r[:13]
        given = "；".join(
            f"{k} = {v:,.2f}".rstrip("0").rstrip(".") for k, v in json.loads(inputs).items() if v is not None
        )
        ws.write_row(i, 0, [seq, group, ind, formula, given], cell)
        ws.write(i, 5, value, cell)
        ws.write_row(i, 6, [unit, _threshold(compare, passing)], cell)
        ws.write(i, 8, verdict, bad if verdict == "不合格" else cell)
        ws.write_row(i, 9, [_threshold(compare, limit, NO_LIMIT), limit_verdict, src], cell)
    for col, width in enumerate([5, 14, 30, 34, 60, 12, 6, 10, 8, 12, 12, 34]):
        ws.set_column(col, col, width)
    end = len(rows) + 6
    if draft:
        warn = wb.add_format({"bold": True, "font_color": "#C00000"})
        ws.write(end - 1, 0, f"草稿：{'；'.join(_why(d) for d in draft)}。此清单不得签字上报。", warn)
    ws.write(end, 0, "复核意见：", note)
    for k, who in enumerate(
        [
            "填表人（签字）：",
            "质量管理部门审核（签字）：",
            "学校负责人（签字）：",
            "（学校公章）    日期：    年  月  日",
        ]
    ):
        ws.write(end + 2 + k * 2, 0 if k < 3 else 6, who, note)
    ws.fit_to_pages(1, 0)
    ws.set_landscape()
    ws.repeat_rows(3)
    wb.close()
    return len(rows)
