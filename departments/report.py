"""The failing rules of a department as a report it can work from: .xlsx (one sheet to read, one to filter)
or a standalone HTML page, and the digest mail the sensor sends.

Built from ``failures_report`` (rules.py): each failing rule with its message and fix hint, and its failing
source rows grouped by system, table and column, so that one root cause reads as one group. Personal
values (names, ID numbers, phones) are masked unless ``reveal`` is asked for.
"""

import html
from email.message import EmailMessage
from pathlib import Path

import xlsxwriter

from model.masking import mask
from reporting.workbook import FIXED_TIME

SEVERITY = {"error": "错误（阻止上报）", "warning": "警告（需说明）"}


def _shown(value, column: str, pii: dict[str, str], reveal: bool):
    return value if reveal else mask(value, pii.get(column))


def write_xlsx(report: list[dict], path: Path, title: str, pii: dict[str, str], reveal: bool = False) -> int:
    """Sheet 问题汇总 (one row per failing rule) and 问题明细 (one row per failing source row, filterable).
    Returns the number of detail rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"created": FIXED_TIME, "author": "statedata", "title": title})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    ws = wb.add_worksheet("问题汇总")
    ws.write(0, 0, title, wb.add_format({"bold": True, "font_size": 14}))
    cols = ["规则", "严重程度", "维度", "问题", "不合格行数", "检查行数", "容差", "修改方法"]
    widths = [10, 16, 8, 50, 10, 10, 8, 60]
    for i, w in enumerate(widths):
        ws.set_column(i, i, w, wrap if w >= 50 else None)
    ws.write_row(2, 0, cols, head)
    for n, f in enumerate(report, start=3):
        r = f["rule"]
        row = [r.id, SEVERITY[r.severity], r.dimension, r.message, f["failing"], f["checked"], r.tolerance, r.hint]
        ws.write_row(n, 0, row)
    detail = wb.add_worksheet("问题明细")
    cols = ["规则", "问题", "源系统", "源表（文件）", "字段", "主键", "值"]
    for i, w in enumerate([10, 40, 10, 28, 16, 24, 30]):
        detail.set_column(i, i, w)
    detail.write_row(0, 0, cols, head)
    n = 0
    for f in report:
        for g in f["groups"]:
            for key, value in g["rows"]:
                n += 1
                detail.write_row(n, 0, [f["rule"].id, f["rule"].message, g["system"], g["table"], g["column"], key,
                                        _shown(value, g["column"], pii, reveal)])  # fmt: skip
    detail.autofilter(0, 0, max(n, 1), len(cols) - 1)
    detail.freeze_panes(1, 0)
    wb.close()
    return n


def html_page(report: list[dict], title: str, pii: dict[str, str], reveal: bool = False, limit: int = 200) -> str:
    """A standalone page (no scripts, no external files): each rule, its hint, its failing rows by group."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}h2{border-bottom:1px solid #ccc}"
        ".error{color:#c00000}.warning{color:#b36b00}table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}th{background:#ddebf7}"
        ".hint{background:#f3f8e8;padding:.5em}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if not report:
        parts.append("<p>没有未通过的规则。</p>")
    for f in report:
        r = f["rule"]
        parts += [
            f'<h2 id="{e(r.id)}"><span class="{e(r.severity)}">{e(r.id)} {e(SEVERITY[r.severity])}</span> '
            f"{e(r.message)}</h2>",
            f"<p>{e(r.dimension)} · {f['failing']} / {f['checked']} 行不合格（容差 {e(r.tolerance)}）</p>",
            f'<p class="hint">修改方法：{e(r.hint)}</p>',
        ]
        for g in f["groups"]:
            where = f"{g['system'] or '-'}.{g['table'] or '-'}"
            parts.append(f"<h3>{e(where)} · {e(g['column'] or '')}（{len(g['rows'])} 行）</h3>")
            parts.append("<table><tr><th>主键</th><th>值</th></tr>")
            for key, value in g["rows"][:limit]:
                shown = _shown(value, g["column"], pii, reveal)
                parts.append(f"<tr><td>{e(key or '-')}</td><td>{e('' if shown is None else str(shown))}</td></tr>")
            parts.append("</table>")
            if len(g["rows"]) > limit:
                parts.append(f"<p>… 另有 {len(g['rows']) - limit} 行，见 .xlsx 报告或 statedata failures。</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def digest_message(
    dept: str,
    academic_year: str,
    report: list[dict],
    pii: dict[str, str],
    sender: str,
    to: list[str],
    reminders: list[str] = (),
) -> EmailMessage:
    """One department's digest: the deadlines to mind, the failing rules in the body, the full list as an HTML
    attachment."""
    errors = sum(f["rule"].severity == "error" for f in report)
    msg = EmailMessage()
    msg["Subject"] = (
        f"[状态数据] {dept} {academic_year}：{len(report)} 条规则未通过（{errors} 条错误）"
        if report
        else f"[状态数据] {dept} {academic_year}：日程提醒"
    )
    msg["From"] = sender
    if to:
        msg["To"] = ", ".join(to)
    msg["X-Statedata-Department"] = dept
    body = [f"{dept}：", ""]
    if reminders:
        body += ["日程提醒：", *(f"  {line}" for line in reminders), ""]
    if report:
        body += [
            f"{academic_year} 学年人才培养状态数据的夜间校验中，以下规则未通过。请在源系统中修正，次日校验会自动复查。",
            "",
        ]
    for f in report:
        r = f["rule"]
        body.append(f"{r.id} {SEVERITY[r.severity]} {r.message}（{f['failing']} 行）")
        body.append(f"  修改方法：{r.hint}")
        for g in f["groups"]:
            rows = [str(k) if k else str(_shown(v, g["column"], pii, False)) for k, v in g["rows"][:5]]
            more = f" 等 {len(g['rows'])} 行" if len(g["rows"]) > 5 else ""
            where = f"{g['system']}.{g['table']}" if g["system"] else "汇总核对"
            body.append(f"  {where} {g['column']}：{', '.join(rows)}{more}")
        body.append("")
    body.append(f"完整清单见附件，或运行：statedata failures --dept {dept} --year {academic_year}")
    msg.set_content("\n".join(body))
    page = html_page(report, f"{dept} {academic_year} 未通过的校验规则", pii)
    msg.add_attachment(page.encode("utf-8"), maintype="text", subtype="html", filename=f"{dept}_{academic_year}.html")
    return msg
