"""The collection calendar (Chinese working days, due / overdue / done per department, reminders in the
digests) and the year-end 考核 table."""

import dataclasses
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from model.settings import DigestSettings


def test_the_source_tables_are_due_five_chinese_working_days_before_collection_opens(site):
    # 2025: 1-8 October off for National Day and Mid-Autumn, Sunday 28 September and Saturday 11 October worked.
    # Five working days before Monday 13 October: 11 Oct (Sat, worked), 10, 9, then over the holiday 30 and 29 Sep.
    from expectations.rules import ready_by
    from portal import calendar

    assert ready_by(date(2025, 10, 13), 5) == (date(2025, 9, 29), True)
    assert calendar.working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1  # only Thursday 9 October
    assert calendar.working_days_between(date(2025, 9, 26), date(2025, 9, 28)) == 1  # Sunday 28 Sep was worked


def _deadlines(site, opens, closes, today):
    from portal import calendar, data
    from portal.models import CollectionWindow

    CollectionWindow.objects.update_or_create(
        academic_year=site.year, defaults=dict(opens=opens, closes=closes, set_by=site.users["quality"])
    )
    snap = data.latest(site.settings)
    return calendar.deadlines(site.settings, snap.con, site.year, today), snap


def test_deadlines_are_done_late_or_overdue_by_the_window_the_quality_office_sets(site):
    from portal import calendar, data
    from portal.models import SignOff

    snap = data.latest(site.settings)
    loaded = snap.con.execute("select min(finished_at) from audit.batch").fetchone()[0]
    loaded = loaded.astimezone(data.BEIJING).date()  # the run the site copied: every source loaded that day
    owners = sorted({data.owner(site.settings, t) for t in data.tables_of(site.settings, site.year)})
    dept = next(d for d in reversed(owners) if d not in (site.a, site.b))  # no 更正表 refers to its signatures
    SignOff.objects.filter(academic_year=site.year, department__name=dept).delete()  # nobody has signed

    # the window a year after the load: the source tables were in early, nothing is late yet
    later = date(loaded.year + 1, 9, 24)
    due, _ = _deadlines(site, later, date(loaded.year + 1, 10, 24), today=loaded)
    sources = [d for d in due if d.what.startswith("数据源表")]
    assert len(sources) == len(site.settings.college.source_tables)
    assert all(d.state == "已完成" and d.done_on == loaded for d in sources)
    assert {d.department for d in sources} == {
        site.settings.college.owner(e) for e in site.settings.college.source_tables
    }

    # the window before the load: the sources came late; the 确认书 is overdue and reminded
    due, snap = _deadlines(site, date(loaded.year, 1, 10), date(loaded.year, 2, 10), today=loaded)
    for d in due:
        if d.what.startswith("数据源表"):
            assert d.state == "逾期完成" and d.done_on > d.due
    mine = [d for d in due if d.department == dept and d.what == "上报确认书"]
    assert [d.state for d in mine] == ["逾期未完成"]
    notes = calendar.reminders(site.settings, snap.con, site.year, loaded)
    assert any("上报确认书" in line for line in notes[dept])


def test_a_reminder_reaches_a_department_even_without_failing_rules(site):
    from departments.digest import build_digests
    from portal import data

    snap = data.latest(site.settings)
    notes = {site.year: {"某个没有规则的部门": ["上报确认书：应于 2027-10-24 前完成（逾期未完成）"]}}
    digests = build_digests(snap.con, data.rules(site.settings), [site.year], {},
                            DigestSettings(outbox=site.home / "outbox"), notes)  # fmt: skip
    (msg,) = [m for d, _, m in digests if d == "某个没有规则的部门"]
    assert msg["Subject"].endswith("日程提醒") and "上报确认书：应于 2027-10-24 前完成" in msg.get_body().get_content()
    failing = [m for d, _, m in digests if d == site.a]
    assert failing and "条规则未通过" in failing[0]["Subject"]


# --- 考核 ---------------------------------------------------------------------------------------------------


def test_the_assessment_scores_each_department_by_the_college_s_scoring_file(site, tmp_path):
    from portal import assessment, data
    from portal.models import Correction, Explanation

    college = tmp_path / "college"
    college.mkdir()
    (college / "scoring.yaml").write_text(
        "full: 100\nitems:\n  open_error_rows: {name: 错误行, per: 2, cap: 1000}\n"
        "  corrections: {name: 更正, per: 7, cap: 7}\n",
        encoding="utf-8",
    )
    settings = dataclasses.replace(site.settings, college_dir=college)
    snap = data.latest(site.settings)
    rows, rules = assessment.table(settings, snap.con, site.year)
    assert list(rules["items"]) == ["open_error_rows", "corrections"] and rules["path"].endswith("scoring.yaml")
    # a department whose failing error rows nobody explained: each of its failing rows costs 2 points
    explained = set(Explanation.objects.values_list("department__name", flat=True))
    failing = snap.con.execute(
        "select rule_id, failing from audit.rule_result where academic_year = ? and severity = 'error' "
        "qualify row_number() over (partition by rule_id order by checked_at desc) = 1", [site.year]
    ).fetchall()  # fmt: skip
    owner = {r.id: r.owner for r in data.rules(site.settings)}
    by_dept: dict[str, int] = {}
    for rule_id, n in failing:
        by_dept[owner[rule_id]] = by_dept.get(owner[rule_id], 0) + n
    dept = next(d for d in sorted(by_dept) if by_dept[d] and d not in explained)
    row = next(r for r in rows if r["department"] == dept)
    corrections = Correction.objects.filter(academic_year=site.year, department__name=dept).count()
    assert row["counts"]["open_error_rows"] == by_dept[dept]
    assert row["score"] == 100 - 2 * by_dept[dept] - min(7, 7 * corrections)
    # the workbook says the same
    book = assessment.xlsx(rows, rules, site.year, "测试学院")
    path = tmp_path / "考核.xlsx"
    path.write_bytes(book)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    line = next(r for r in sheet if r and r[0] == dept)
    assert line[1] == by_dept[dept] and line[2] == 2 * by_dept[dept] and line[-1] == row["score"]


@pytest.mark.parametrize(
    "text, message",
    [("items:\n  speed: {name: x, per: 1, cap: 1}\n", "unknown item 'speed'"),
     ("items:\n  late: {name: x, per: -1, cap: 1}\n", "late: expected"),
     ("full: many\n", "full: expected a number")],
)  # fmt: skip
def test_a_bad_scoring_file_is_named_with_what_is_wrong(site, tmp_path, text, message):
    from portal import assessment

    (tmp_path / "scoring.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(assessment.ScoringError, match=message) as e:
        assessment.scoring(dataclasses.replace(site.settings, college_dir=tmp_path))
    assert str(tmp_path / "scoring.yaml") in str(e.value)


def test_the_assessment_workbook_writes_text_that_looks_like_a_formula_as_text(site, tmp_path):
    from openpyxl import load_workbook

    from portal import assessment

    rules, path = assessment.scoring(site.settings)
    rules["path"] = str(path)
    row = dict(department="=1+1", counts={k: 0 for k in rules["items"]}, lost={k: 0 for k in rules["items"]},
               score=100)  # fmt: skip
    path = tmp_path / "k.xlsx"
    path.write_bytes(assessment.xlsx([row], rules, site.year, "@学院"))
    cells = [c for r in load_workbook(path).active.iter_rows() for c in r if c.value is not None]
    risky = [c for c in cells if str(c.value)[:1] in "=@"]
    assert len(risky) == 2 and all(c.data_type == "s" for c in risky)  # the name and the title: strings
