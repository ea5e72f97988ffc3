"""The year-end 考核 table: per department, its on-time record, the error rows left unfixed and unwaived, the
warnings left unexplained, the corrections after sign-off and the approved explanations, scored by a scoring
file (portal/scoring.yaml, or scoring.yaml in the college folder), and written as .xlsx."""

import io
from pathlib import Path

import xlsxwriter
from django.utils import timezone

from model.settings import Settings
from model.yamlfile import read_yaml
from portal import calendar, data, review
from portal.models import Correction, Explanation

DEFAULT = Path(__file__).with_name("scoring.yaml")
ITEMS = ("late", "open_error_rows", "unexplained_warnings", "corrections", "explanations")


class ScoringError(ValueError):
    pass


def scoring(settings: Settings) -> tuple[dict, Path]:
    """The scoring in force (the college's own file if it has one), checked: every item known, numbers >= 0."""
    path = settings.college_dir / "scoring.yaml"
    path = path if path.exists() else DEFAULT
    raw = read_yaml(path) or {}
    items = raw.get("items") or {}
    problems = [f"unknown item {k!r} (items: {', '.join(ITEMS)})" for k in items if k not in ITEMS]
    for k, v in items.items():
        if not isinstance(v, dict) or not all(isinstance(v.get(x), (int, float)) and v[x] >= 0 for x in ("per", "cap")):
            problems.append(f"{k}: expected {{name: …, per: <points ≥ 0>, cap: <points ≥ 0>}}")
    if not isinstance(raw.get("full", 100), (int, float)):
        problems.append("full: expected a number of points")
    if problems:
        raise ScoringError(f"{path}: " + "; ".join(problems))
    return dict(full=raw.get("full", 100), items={k: items[k] for k in ITEMS if k in items}), path


def table(settings: Settings, con, academic_year: str) -> tuple[list[dict], dict]:
    """One row per department that owns a table or a rule: the counts, the points lost per item, the score."""
    rules, path = scoring(settings)
    due = calendar.deadlines(settings, con, academic_year, timezone.localdate())
    rows = []
    for dept in data.departments(settings, academic_year):
        counts = dict(late=sum(d.late for d in due if d.department == dept), open_error_rows=0,
                      unexplained_warnings=0, explanations=0)  # fmt: skip
        for f in data.failures(settings, con, academic_year, dept):
            st = review.rule_state(con, academic_year, f["rule"].id)
            open_rows = len(st["failing"]) - len(st["covered"])
            if f["rule"].severity == "error":
                counts["open_error_rows"] += open_rows
            elif open_rows:
                counts["unexplained_warnings"] += 1
        counts["corrections"] = Correction.objects.filter(academic_year=academic_year, department__name=dept).count()
        counts["explanations"] = Explanation.objects.filter(
            academic_year=academic_year, department__name=dept, state=Explanation.APPROVED
        ).count()
        lost = {k: min(v["cap"], v["per"] * counts[k]) for k, v in rules["items"].items()}
        rows.append(dict(department=dept, counts=counts, lost=lost, score=rules["full"] - sum(lost.values()),
                         cells=[(counts[k], lost[k]) for k in rules["items"]]))  # fmt: skip
    return rows, dict(rules, path=str(path))


def xlsx(rows: list[dict], rules: dict, academic_year: str, college: str) -> bytes:
    """The table as a workbook: one row per department, each item's count and points lost, the score. Text is
    written as text (never as a formula)."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    ws = wb.add_worksheet("年终考核")
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    ws.write_string(
        0, 0, f"{college} {academic_year} 学年状态数据工作年终考核", wb.add_format({"bold": True, "font_size": 14})
    )
    header = ["部门"]
    for k, v in rules["items"].items():
        header += [f"{v['name']}（数）", f"扣分（每项 {v['per']} 分，至多 {v['cap']} 分）"]
    header.append(f"得分（满分 {rules['full']}）")
    for c, h in enumerate(header):
        ws.write_string(2, c, h, head)
    ws.set_column(0, 0, 14)
    ws.set_column(1, len(header) - 1, 16)
    for r, row in enumerate(rows, start=3):
        ws.write_string(r, 0, row["department"])
        c = 1
        for k in rules["items"]:
            ws.write_number(r, c, row["counts"][k])
            ws.write_number(r, c + 1, row["lost"][k])
            c += 2
        ws.write_number(r, c, row["score"], bold)
    ws.write_string(len(rows) + 4, 0, f"评分依据：{rules['path']}")
    wb.close()
    return out.getvalue()
