"""Golden tests of the cross-table, continuity and timeliness SQL rules on hand-made tables: each finds
exactly the planted break, and nothing on consistent data."""

from datetime import date, datetime, timedelta, timezone

import pytest

from expectations.rules import evaluate, evaluate_all, load_catalogue, recheck, record, reused_results
from warehouse import db
from warehouse.fingerprint import Fingerprints
from warehouse.raw import confirm_unchanged

RULES = {r.id: r for r in load_catalogue()}
YEAR, LAST = "2025-2026", "2024-2025"
PARAMS = dict(
    academic_year=YEAR, previous_year=LAST, stock_date=date(2025, 9, 1), previous_stock_date=date(2024, 9, 1),
    equipment_min_unit_price=1000, checked_at=datetime(2026, 9, 20, tzinfo=timezone.utc), max_source_age_hours=48,
    ready_by=date(2026, 9, 17), empty_tables=[],
)  # fmt: skip


@pytest.fixture
def con(tmp_path):
    with db.connect(tmp_path / "w.duckdb") as c:
        db.init(c)
        yield c


def failing(con, rule_id, **params):
    return sorted(r["value"] for r in evaluate(con, RULES[rule_id], YEAR, PARAMS | params).failures)


def test_library_flow_between_stock_dates(con):
    con.execute("""create table core.library_item as select * from (values
        ('中文图书', date '2020-01-01', null), ('中文图书', date '2025-03-01', null),
        ('外文图书', date '2019-01-01', date '2025-05-01'), ('电子图书', date '2025-01-01', null))
        t(kind, acquired_on, withdrawn_on)""")
    con.execute(f"create table platform.library as select * from (values ('{LAST}', 2), ('{YEAR}', 2)) "
                "t(academic_year, books_total)")  # fmt: skip
    assert failing(con, "R-TS-010") == []  # 2 + 1 acquired − 1 withdrawn = 2
    con.execute(f"update platform.library set books_total = 5 where academic_year = '{YEAR}'")
    assert failing(con, "R-TS-010") == ["去年 2 + 入藏 1 − 注销 1 = 2，今年 5"]


def test_student_flow_per_major_with_tolerance_for_major_changes(con):
    con.execute("create table core.major_code as select * from (values ('M1', '510201'), ('M2', '530302')) "
                "t(major_id, catalog_code)")  # fmt: skip
    students = (
        [("M1", "2023-09-01", None)] * 40
        + [("M1", "2025-08-20", None)] * 10
        + [("M1", "2022-09-01", "2025-06-30")] * 30
    )
    students += [("M2", "2023-09-01", None)] * 20  # fmt: skip
    con.execute("create table core.student (major_id varchar, enrolled_on date, left_on date)")
    con.executemany("insert into core.student values (?, ?, ?)", students)
    con.execute("create table platform.major (academic_year varchar, catalog_code varchar, students_total int)")
    con.executemany("insert into platform.major values (?, ?, ?)",
                    [(LAST, "510201", 70), (YEAR, "510201", 50), (LAST, "530302", 20), (YEAR, "530302", 21)])  # fmt: skip
    assert failing(con, "R-XS-020") == []  # 70 + 10 − 30 = 50; 530302 one off: within 2
    con.execute(
        f"update platform.major set students_total = 60 where academic_year = '{YEAR}' and catalog_code = '510201'"
    )
    assert failing(con, "R-XS-020") == ["510201：去年 70 + 新生 10 − 离校 30 = 50，今年 60"]


def test_stable_facts_and_titles_going_down(con):
    con.execute("create table platform.school_basic as select * from (values "
                f"('{LAST}', '1958-09'), ('{YEAR}', '1960-09')) t(academic_year, founded)")  # fmt: skip
    con.execute(f"create table platform.land_building as select * from (values ('{LAST}', 100.0), ('{YEAR}', 100.0)) "
                "t(academic_year, land_area_m2)")  # fmt: skip
    assert failing(con, "R-XX-001") == ["去年 1958-09，今年 1960-09"]
    con.execute("create table platform.full_time_teacher as select * from (values "
                f"('{LAST}', 'T1', '副高级', '硕士', ['r1']), ('{YEAR}', 'T1', '中级', '硕士', ['r2']), "
                f"('{LAST}', 'T2', '中级', '学士', ['r3']), ('{YEAR}', 'T2', '副高级', '硕士', ['r4'])) "
                "t(academic_year, staff_id, title_level, degree, _raw_ids)")  # fmt: skip
    result = evaluate(con, RULES["R-JS-030"], YEAR, PARAMS)
    assert [(f["raw_id"], f["value"]) for f in result.failures] == [("r2", "T1：去年 副高级，今年 中级")]


def test_equipment_flow_within_one_percent(con):
    con.execute("""create table core.equipment as select * from (values
        (true, 5000, 1000000.0, date '2020-01-01', null), (true, 5000, 20000.0, date '2025-01-01', null),
        (true, 500, 9999.0, date '2025-01-01', null)) t(for_teaching_research, unit_price, value_yuan, acquired_on,
        disposed_on)""")  # fmt: skip
    con.execute(f"create table platform.equipment_assets as select * from (values ('{LAST}', 100.0), ('{YEAR}', 102.5)) "
                "t(academic_year, teaching_equipment_10k)")  # fmt: skip
    assert failing(con, "R-ZC-020") == []  # 100 + 2 = 102 against 102.5: within 1 %
    con.execute(f"update platform.equipment_assets set teaching_equipment_10k = 110 where academic_year = '{YEAR}'")
    assert len(failing(con, "R-ZC-020")) == 1


def test_parts_totals_and_graduates(con):
    con.execute(f"""create table platform.land_building as select '{YEAR}' as academic_year, 1000.0 as land_area_m2,
        900.0 as land_owned_m2, 500.0 as floor_area_total_m2, 500.0 as floor_area_owned_m2,
        300.0 as teaching_research_m2, 100.0 as classroom_m2, 50.0 as library_m2, 50.0 as lab_m2,
        0.0 as research_m2, 0.0 as gym_m2, 0.0 as hall_m2, 20.0 as admin_m2, 150.0 as living_m2,
        100.0 as student_dorm_m2, 60.0 as student_canteen_m2, 0.0 as staff_dorm_m2, 0.0 as staff_canteen_m2,
        0.0 as welfare_m2, 0.0 as staff_housing_m2, 30.0 as other_m2""")
    assert failing(con, "R-ZC-010") == ["分项合计 160.0 > 总计 150.0"]
    con.execute("create table platform.graduate_employment as select * from (values "
                f"('{YEAR}', '应届', '510201', '软件技术', 50, 45, 5, 2), ('{YEAR}', '应届', '530302', '会计', 30, 28, 3, 1)) "
                "t(academic_year, cohort, catalog_code, major_name, graduates, employed, further_study, entrepreneurs)")  # fmt: skip
    assert failing(con, "R-JY-004") == ["530302 会计（应届）：毕业生 30，就业 28（其中创业 1），升学 3"]
    con.execute("create table platform.finance as select * from (values "
                f"('{YEAR}', '收入', 0, 100.0), ('{YEAR}', '收入', 1, 60.0), ('{YEAR}', '收入', 2, 40.0), "
                f"('{YEAR}', '支出', 0, 90.0), ('{YEAR}', '支出', 1, 80.0)) t(academic_year, direction, item_no, amount_10k)")  # fmt: skip
    assert failing(con, "R-JF-004") == ["各项合计 80.0 ≠ 总计 90.0（万元）"]


def test_one_teacher_id_in_two_teacher_tables(con):
    for table, col in (("full_time_teacher", "staff_id"), ("internal_part_time_teacher", "staff_id")):
        con.execute(f"create table platform.{table} as select * from (values ('{YEAR}', 'T1', ['r1']), "
                    f"('{YEAR}', 'T2', ['r2'])) t(academic_year, {col}, _raw_ids)")  # fmt: skip
    con.execute(f"create table platform.external_teacher as select * from (values ('{YEAR}', 'T2', '校外兼职', ['r3']))"
                " t(academic_year, teacher_id, kind, _raw_ids)")  # fmt: skip
    con.execute("delete from platform.internal_part_time_teacher where staff_id = 'T2'")
    con.execute("update platform.internal_part_time_teacher set staff_id = 'T3'")
    assert failing(con, "R-JS-002") == ["T2（校内专任、校外兼职）"]


def test_timeliness_source_age_and_tables_ready(con):
    now = PARAMS["checked_at"]
    con.execute(f"create table platform.school_basic as select '{YEAR}' as academic_year")  # the guarded table
    con.executemany(
        "insert into audit.batch values (?, ?, 'x', ?, ?, 'committed')",
        [(1, "hr", now - timedelta(hours=80), now - timedelta(hours=79)),
         (2, "academic", now - timedelta(hours=3), now - timedelta(hours=2))],
    )  # fmt: skip
    assert failing(con, "R-SJ-001") == [f"hr：最近一次抽取于 {(now - timedelta(hours=79)):%Y-%m-%d %H:%M}"]
    assert failing(con, "R-SJ-001", max_source_age_hours=100) == []
    tables = ["A7-5 产学合作", "A8-1 教学管理人员"]
    assert failing(con, "R-SJ-002", empty_tables=tables) == [f"{t}（应于 2026-09-17 前就绪）" for t in tables]
    assert failing(con, "R-SJ-002", empty_tables=tables, checked_at=datetime(2026, 9, 1, tzinfo=timezone.utc)) == []


def test_a_source_confirmed_unchanged_is_current_and_the_clock_rules_are_rechecked_alone(con):
    """A night with nothing changed records its probe as an 'unchanged' batch (R-SJ-001 counts it) and records the
    clock rules again only while they come out as before; once one comes out otherwise, nothing is recorded."""
    now = PARAMS["checked_at"]
    con.execute(f"create table platform.school_basic as select '{YEAR}' as academic_year")
    con.execute("insert into audit.batch values (1, 'hr', 'x', ?, ?, 'committed')",
                [now - timedelta(hours=80), now - timedelta(hours=79)])  # fmt: skip
    assert len(failing(con, "R-SJ-001")) == 1
    confirm_unchanged(con, {"hr": "sqlite:///hr.sqlite"}, now - timedelta(minutes=1))
    assert con.execute("select batch_id, status from audit.batch order by 1").fetchall() == [
        (1, "committed"), (2, "unchanged")
    ]  # fmt: skip
    assert failing(con, "R-SJ-001") == []

    clock = [r for r in load_catalogue() if r.reads_clock]
    assert {r.id for r in clock} == {"R-SJ-001", "R-SJ-002"}  # the catalogue's rules whose SQL reads $checked_at
    tables = ["A7-5 产学合作"]
    assert recheck(con, clock, YEAR, PARAMS | {"empty_tables": tables}, "night-1") == [
        f"{r.id} {r.message}" for r in clock
    ]  # never evaluated before: nothing to be equal to, nothing recorded
    assert con.execute("select count(*) from audit.rule_result").fetchone()[0] == 0
    record(con, "run-1", evaluate_all(con, clock, YEAR, PARAMS | {"empty_tables": tables}, model=None))
    confirmed = con.execute("select finished_at from audit.batch where status = 'unchanged'").fetchone()[0]
    later = PARAMS | {"empty_tables": tables, "checked_at": confirmed + timedelta(hours=40)}
    assert recheck(con, clock, YEAR, later, "night-2") == []
    assert con.execute("select run_id, rule_id, passed from audit.rule_result where run_id = 'night-2' order by 2")\
        .fetchall() == [("night-2", "R-SJ-001", True), ("night-2", "R-SJ-002", False)]  # fmt: skip
    assert con.execute("select value from audit.rule_failure where rule_id = 'R-SJ-002'").fetchall() == [
        ("A7-5 产学合作（应于 2026-09-17 前就绪）",)
    ]  # the latest evaluation's failing rows, once
    stale = PARAMS | {"empty_tables": tables, "checked_at": confirmed + timedelta(hours=60)}  # hr: 60 hours old
    assert recheck(con, clock, YEAR, stale, "night-3") == [f"R-SJ-001 {RULES['R-SJ-001'].message}"]
    assert con.execute("select count(*) from audit.rule_result where run_id = 'night-3'").fetchone()[0] == 0


def test_superseded_major_codes_are_mapped_and_reported(con):
    con.execute("create table staging.major as select * from (values ('r1', '610205'), ('r2', '510203')) "
                "t(_raw_id, catalog_code)")  # fmt: skip
    con.execute("create table staging.enrolment_plan as select 'r3' as _raw_id, '630302' as catalog_code")
    result = evaluate(con, RULES["R-ZY-002"], YEAR, PARAMS)
    assert sorted((f["raw_id"], f["value"]) for f in result.failures) == [
        ("r1", "610205 → 510203"),
        ("r3", "630302 → 530302"),
    ]
    successor = "select core.code_name('major_catalog_crosswalk.successor', ?)"
    assert [con.execute(successor, [c]).fetchall()[0][0] for c in ("610205", "510203")] == ["510203", "510203"]


def test_unmapped_subjects_of_income_and_expense_only(con):
    """A double-entry ledger's balancing lines (bank, payables) map to no item and are not income or expense:
    R-JF-001 reports only unmapped income and expense subjects, and subjects the national list lacks."""
    con.execute("""create table core.ledger_entry as select * from (values
        ('l1', 2025, '410101', '学费收入'),           -- mapped
        ('l2', 2025, '1002', '未映射科目 1002'),        -- 银行存款 (资产): the other side of l1
        ('l3', 2025, '2302', '未映射科目 2302'),        -- 应付账款 (负债)
        ('l4', 2025, '4609', '未映射科目 4609'),        -- 其他收入 (收入), unmapped: reported
        ('l5', 2025, '500109', '未映射科目 500109'),    -- 业务活动费用 (费用), unmapped: reported
        ('l6', 2025, '9999', '未映射科目 9999'),        -- no such subject: reported
        ('l7', 2024, '4609', '未映射科目 4609'))        -- another fiscal year
        t(_raw_id, fiscal_year, subject_code, item)""")
    con.execute(f"create table platform.finance as select '{YEAR}' as academic_year")  # what the rule guards
    assert failing(con, "R-JF-001", fiscal_year=2025) == ["4609", "500109", "9999"]


def test_a_result_about_unchanged_tables_is_reused_with_its_failing_rows(con):
    """reused_results: the latest result of a rule is kept while every table it examined has the fingerprint it had;
    a change to any of them, or a rule that binds the clock, is evaluated again."""
    con.execute("""create table core.library_item as select * from (values
        ('中文图书', date '2020-01-01', null), ('中文图书', date '2025-03-01', null)) t(kind, acquired_on, withdrawn_on)""")
    con.execute(f"create table platform.library as select * from (values ('{LAST}', 1), ('{YEAR}', 9)) "
                "t(academic_year, books_total)")  # fmt: skip
    con.execute(f"create table platform.school_basic as select '{YEAR}' as academic_year")
    flow, clock = RULES["R-TS-010"], RULES["R-SJ-002"]
    assert flow.reusable and not clock.reusable
    params = PARAMS | {"empty_tables": ["A7-5 产学合作"]}
    first = evaluate_all(con, [flow, clock], YEAR, params, model=None)
    record(con, "run-1", first)
    assert [r.failing for r in first] == [1, 1]

    reused = reused_results(con, [flow, clock], YEAR, Fingerprints(con, YEAR, LAST))
    assert [(r.rule.id, r.failing, r.checked, r.failures) for r in reused] == [
        ("R-TS-010", 1, first[0].checked, first[0].failures)
    ]  # the clock rule is not among them
    record(con, "run-2", reused)
    assert con.execute("select run_id, value from audit.rule_failure where rule_id = 'R-TS-010'").fetchall() == [
        ("run-2", first[0].failures[0]["value"])
    ]  # recorded again under the new run, once
    # another year's rows of a table it reads do not count; a row of one it reads does
    con.execute("insert into platform.library values ('2019-2020', 3)")
    assert [r.rule.id for r in reused_results(con, [flow], YEAR, Fingerprints(con, YEAR, LAST))] == ["R-TS-010"]
    con.execute("insert into core.library_item values ('电子图书', date '2025-04-01', null)")
    assert reused_results(con, [flow], YEAR, Fingerprints(con, YEAR, LAST)) == []
