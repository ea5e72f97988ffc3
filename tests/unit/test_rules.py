"""The rule catalogue: valid, documented, and each SQL rule's failures traced to their source rows."""

from pathlib import Path

import pytest
import yaml

from expectations.rules import CATALOGUE, CatalogueError, Rule, docs_markdown, evaluate, load_catalogue, record
from warehouse import db

DOCS = Path(__file__).parents[2] / "docs" / "rules.md"


def test_catalogue_loads_and_the_docs_are_generated_from_it():
    rules = load_catalogue()
    assert len({r.id for r in rules}) == len(rules) >= 10
    assert {r.dimension for r in rules} >= {"一致性", "规范性"} and {r.severity for r in rules} == {"error", "warning"}
    assert DOCS.read_text(encoding="utf-8") == docs_markdown(rules), "run: python -m expectations.rules > docs/rules.md"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"dimension": "好看性"}, "dimension '好看性' is not one of"),
        ({"tolerance": "a few"}, "tolerance is a row count"),
        ({"id": "XS-1"}, "id must be R-"),
        ({"sql": "no_such_rule"}, "sql 'no_such_rule': expected"),
        ({"asset": "core.student"}, "asset must be a platform or staging table"),
        ({"expect": ["required"]}, "either sql .* or expect"),
        ({"asset": "platform.student", "sql": None, "expect": ["required"]}, "GX suites .* guard canonical relations"),
    ],
)
def test_a_bad_rule_is_refused_with_its_place(tmp_path, change, message):
    raw = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    raw["rules"][1] |= change
    raw["rules"][1] = {k: v for k, v in raw["rules"][1].items() if v is not None}
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"rules\[1\] .*" + message):
        load_catalogue(path)


def test_tolerance_as_count_or_share():
    rule = Rule("R-XX-001", "platform.x", "一致性", "error", "1%", "教务处", "m", "h", sql="x")
    assert rule.allowed(250) == 2 and rule.allowed(99) == 0
    assert Rule("R-XX-002", "platform.x", "一致性", "error", "3", "教务处", "m", "h", sql="x").allowed(0) == 3
    assert not Rule(
        "R-XX-003", "platform.x", "一致性", "error", "0", "教务处", "m", "h", sql="x", years="2027-2028"
    ).applies("2026-2027")


def test_failures_are_traced_to_source_rows_the_counts_kept_with_history_the_rows_of_the_latest(tmp_path):
    rule = next(r for r in load_catalogue() if r.id == "R-KC-001")  # a teaching task's course is unknown
    with db.connect(tmp_path / "w.duckdb") as con:
        db.init(con)
        con.execute("""create table raw.academic__teaching_task as select * from (values
            ('r1', 'academic', 'JW_JXRW', 'T1'), ('r2', 'academic', 'JW_JXRW', 'T2'))
            t(_raw_id, _source_system, _source_table, _source_key)""")
        con.execute("""create table staging.teaching_task as select * from (values
            ('T1', 'C1', 'r1'), ('T2', 'C9', 'r2')) t(task_id, course_id, _raw_id)""")
        con.execute("create table staging.course as select 'C1' as course_id")
        result = evaluate(con, rule, "2026-2027", {"academic_year": "2026-2027"})
        assert (result.failing, result.checked, result.passed) == (1, 2, False)
        assert result.failures == [
            {"source_system": "academic", "source_table": "JW_JXRW", "source_key": "T2",
             "column_name": "course_id", "value": "C9", "raw_id": "r2"}
        ]  # fmt: skip
        record(con, "run-1", [result])
        con.execute("insert into staging.course values ('C9')")  # fixed at the source
        record(con, "run-2", [evaluate(con, rule, "2026-2027", {"academic_year": "2026-2027"})])
        history = con.execute(
            "select run_id, passed, failing from audit.rule_result where rule_id = 'R-KC-001' order by checked_at"
        ).fetchall()
        assert history == [("run-1", False, 1), ("run-2", True, 0)]
        assert con.execute("select run_id, source_key from audit.rule_failure").fetchall() == []  # run-2's: none
        con.execute("delete from staging.course where course_id = 'C9'")  # broken again, two nights running
        for run in ("run-3", "run-4"):
            record(con, run, [evaluate(con, rule, "2026-2027", {"academic_year": "2026-2027"})])
        assert con.execute("select run_id, source_key from audit.rule_failure").fetchall() == [("run-4", "T2")]
        assert con.execute("select count(*) from audit.rule_result").fetchall() == [(4,)]
