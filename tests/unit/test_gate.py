"""The gate accepts a rule's pass only while the tables it examined are what it saw (issue 14, finding 1): a
table rebuilt after the rules ran (a run that stopped part-way) or edited by hand makes the year unvalidated;
another academic year's rebuild does not."""

import pytest

from expectations.rules import Rule, blocking_rules, evaluate_all, record, stale_results
from model.canonical import load_model
from warehouse import db

YEAR = "2026-2027"
# an error rule on a national table that reads a core table: both are what it examines
RULE = Rule("R-XS-998", "platform.student", "完整性", "error", "0", "学生工作处", "m", "h",
            inline_sql="select p._raw_id, 'name' as column_name, null as value from platform.student as p "
                       "inner join core.student as c using (student_id) where c.name is null")  # fmt: skip


@pytest.fixture
def con(tmp_path):
    with db.connect(tmp_path / "w.duckdb") as c:
        db.init(c)
        c.execute(
            "create table core.student as select * from (values ('s1', '张三'), ('s2', '李四')) t(student_id, name)"
        )  # noqa: E501
        c.execute("""create table platform.student as select * from (values
            ('2025-2026', 's1', 'r1'), ('2026-2027', 's1', 'r1'), ('2026-2027', 's2', 'r2'))
            t(academic_year, student_id, _raw_id)""")
        record(c, "run-1", evaluate_all(c, [RULE], YEAR, {}, load_model()))
        yield c


def test_a_pass_counts_while_the_data_are_what_the_rule_saw(con):
    assert RULE.tables() == [("platform", "student"), ("core", "student")]
    assert blocking_rules(con, [RULE], YEAR) == [] and stale_results(con, [RULE], YEAR) == []


@pytest.mark.parametrize(
    "change",
    [
        "insert into core.student values ('s3', null)",  # a rebuilt core table, the rules not run since
        "update platform.student set student_id = 's9' where _raw_id = 'r2'",  # a national table edited
        "insert into platform.student values ('2026-2027', 's2', 'r2')",  # a duplicated row
        "insert into platform.student values ('2025-2026', 's2', 'r2')",  # last year's rows: continuity reads them
    ],
)
def test_changed_data_make_the_pass_worthless_until_the_rules_run_again(con, change):
    con.execute(change)
    ((rule, why),) = blocking_rules(con, [RULE], YEAR)
    assert rule is RULE and why.startswith("检查后数据已变化") and stale_results(con, [RULE], YEAR) == [RULE]
    record(con, "run-2", evaluate_all(con, [RULE], YEAR, {}, load_model()))  # a run that completes
    assert blocking_rules(con, [RULE], YEAR) == []


def test_another_years_rebuild_leaves_the_years_pass_valid(con):
    con.execute("insert into platform.student values ('2027-2028', 's2', 'r2'), ('2024-2025', 's1', 'r1')")
    assert blocking_rules(con, [RULE], YEAR) == []


def test_a_rule_never_evaluated_for_the_year_blocks(con):
    other = Rule("R-XS-997", "platform.student", "完整性", "error", "0", "学生工作处", "m", "h",
                 inline_sql="select null as _raw_id, 'x' as column_name, null as value where false")  # fmt: skip
    ((rule, why),) = blocking_rules(con, [RULE, other], YEAR)
    assert rule is other and why.startswith("尚未检查")
