"""The collection calendar (采集日程): the national collection window of a year's data, the 数据源表 due 5 Chinese
working days before it opens (chinese-calendar: public holidays and make-up working days), and each owning
department's 上报确认书 due when it closes; due, overdue and done per department, and the reminders the
departments' digests carry."""

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

from expectations.rules import ready_by
from model.settings import Settings
from model.years import parse_year
from portal import data
from portal.models import CollectionWindow, SignOff

DEFAULT_DAYS_OPEN = 30
SOON_WORKING_DAYS = 5  # a deadline this close is reminded of


@dataclass
class Window:
    opens: date
    closes: date
    set_by: str  # who set it, or '' for the default


@dataclass
class Deadline:
    department: str
    what: str
    due: date
    done_on: date | None
    state: str  # 已完成, 逾期完成, 逾期未完成, 即将到期, 未到期
    exact: bool = True  # False when chinese-calendar does not cover the year yet (plain weekdays counted)

    @property
    def late(self) -> bool:
        return self.state in ("逾期完成", "逾期未完成")


def window(settings: Settings, academic_year: str) -> Window:
    w = CollectionWindow.objects.filter(academic_year=academic_year).select_related("set_by").first()
    if w is not None:
        return Window(w.opens, w.closes, w.set_by.get_username())
    opens = date(parse_year(academic_year) + 1, *settings.collection_opens)
    return Window(opens, opens + timedelta(days=DEFAULT_DAYS_OPEN), "")


def working_days_between(start: date, end: date) -> int:
    """Chinese working days after ``start`` up to and including ``end`` (weekdays where the calendar ends)."""
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        try:
            n += chinese_calendar.is_workday(day)
        except NotImplementedError:
            n += day.weekday() < 5
    return n


def _state(due: date, done_on: date | None, today: date) -> str:
    if done_on is not None:
        return "已完成" if done_on <= due else "逾期完成"
    if today > due:
        return "逾期未完成"
    return "即将到期" if working_days_between(today, due) <= SOON_WORKING_DAYS else "未到期"


def _ready_on(settings: Settings, con, entity: str) -> date | None:
    """The day the source table first arrived with rows: the first committed load of a mapping feeding it."""
    feeds = [(s.system, name) for s in data.mappings(settings).values()
             for name, e in s.entities.items() if (e.entity or name) == entity]  # fmt: skip
    if not feeds:
        return None

    def first():
        row = con.execute(
            "select min(b.finished_at) from audit.load_log l join audit.batch b using (batch_id) "
            "where l.rows_read > 0 and b.status = 'committed' and l.system || chr(31) || l.entity in "
            "(select unnest(?::varchar[]))",
            [[f"{s}\x1f{e}" for s, e in feeds]],
        ).fetchone()
        return row[0].astimezone(data.BEIJING).date() if row and row[0] else None

    return data.cached(con, ("ready_on", entity), first)


def deadlines(settings: Settings, con, academic_year: str, today: date) -> list[Deadline]:
    """Every deadline of the year's collection, per department."""
    w = window(settings, academic_year)
    due, exact = ready_by(w.opens, 5)
    out = []
    for entity in settings.college.source_tables:
        done = _ready_on(settings, con, entity)
        title = data.entity_title(entity)
        out.append(Deadline(settings.college.owner(entity), f"数据源表：{title}", due, done,
                            _state(due, done, today), exact))  # fmt: skip
    for dept in sorted({data.owner(settings, t) for t in data.tables_of(settings, academic_year)}):
        first = SignOff.objects.filter(academic_year=academic_year, department__name=dept).order_by("signed_at").first()
        valid = SignOff.objects.filter(academic_year=academic_year, department__name=dept, state=SignOff.VALID)
        done = first.signed_at.astimezone(data.BEIJING).date() if first is not None and valid.exists() else None
        out.append(Deadline(dept, "上报确认书", w.closes, done, _state(w.closes, done, today)))
    return out


def reminders(settings: Settings, con, academic_year: str, today: date) -> dict[str, list[str]]:
    """department -> what its digest should remind it of: deadlines soon due or overdue and not done."""
    out: dict[str, list[str]] = {}
    for d in deadlines(settings, con, academic_year, today):
        if d.state in ("即将到期", "逾期未完成"):
            out.setdefault(d.department, []).append(f"{d.what}：应于 {d.due:%Y-%m-%d} 前完成（{d.state}）")
    return out
