"""Real Dagster runs of the nightly job on the small demo, in a temporary STATEDATA_HOME."""

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipelines.cli import main
from reporting.templates import pack_for_year
from tests.conftest import ACADEMIC_YEAR


def run(*args) -> tuple[int, dict | None, str]:
    res = CliRunner().invoke(main, ["run", "--year", ACADEMIC_YEAR, "--json", *args])
    out = res.stdout
    try:
        return res.exit_code, json.loads(out[out.index("{") :]), res.output
    except ValueError:
        return res.exit_code, None, res.output


@pytest.fixture
def first_run(ran, ran_src, ran_summary) -> dict:
    """The summary of a first run of the small demo (the session's), its paths in this test's copy of the folder."""
    return json.loads(json.dumps(ran_summary).replace(str(ran_src[0]), str(ran)))


def test_run_produces_every_table_with_the_true_counts(first_run, ran):
    s = first_run
    truth = json.loads((ran / "demo" / "manifest.json").read_text(encoding="utf-8"))["truth"][ACADEMIC_YEAR]
    assert s["success"] and s["academic_year"] == ACADEMIC_YEAR
    assert s["row_counts"]["platform.student"] == truth["enrolled_students"]
    assert s["row_counts"]["platform.full_time_teacher"] == truth["full_time_teachers"]
    assert s["row_counts"]["platform.internal_part_time_teacher"] == truth["internal_part_time_teachers"]
    pack = pack_for_year(ACADEMIC_YEAR)
    assert [Path(f["path"]).name for f in s["files"]] == [t.file_name for t in pack.ordered_tables()] + [
        "核心数据复核清单.xlsx"
    ]
    # the demo's injected defects fail error rules: the tables are a draft beside the (absent) good folder
    assert Path(s["output_folder"]) == ran / "out" / f"4141099999_{ACADEMIC_YEAR}_draft"
    by_table = {f["table"]: f for f in s["files"]}
    assert by_table["external_part_time_teacher"]["rows"] == truth["external_part_time_teachers"]
    assert by_table["external_guest_teacher"]["rows"] == truth["external_guest_teachers"]
    for t in pack.tables:  # rows as reported; the current year's 应届 graduates have not graduated yet
        ws = load_workbook(by_table[t.id]["path"], read_only=True).active
        rows = list(ws.iter_rows(values_only=True))
        assert len(rows) - t.header_depth == by_table[t.id]["rows"]
        assert rows[-1] != (None,) * len(t.columns) and (by_table[t.id]["rows"] > 0 or t.id == "graduate_employment")
    assert s["checks"]["evaluated"] > 20
    # the review list of a draft says so in its title and above the signatures, naming a failing rule
    review = list(load_workbook(by_table["review_list"]["path"], read_only=True).active.iter_rows(values_only=True))
    texts = [str(c) for r in review for c in r if c]
    assert texts[0].startswith("【草稿，不得用于上报】")
    failing = sorted(f["check"].replace("_", "-") for f in s["checks"]["failures"]
                     if f["check"].startswith("R_") and f["severity"] == "ERROR")  # fmt: skip
    assert any(t.startswith("草稿：") and failing[0] in t for t in texts), texts[-8:]
    assert "待学校填写（文件表二）" in texts and "未配置" not in texts  # the 限制招生 lines are the college's to fill
    # ERRORs come only from catalogue rules, which catch the demo's injected defects (loads and keys are fine)
    errors = {f["check"] for f in s["checks"]["failures"] if f["severity"] == "ERROR"}
    assert errors and all(c.startswith("R_") for c in errors)
    assert {"asset": "raw.library__item", "check": "load_accounting", "passed": False, "severity": "WARN"} in s[
        "checks"
    ]["failures"]  # the demo's keyless library items were quarantined, not lost
    assert set(s["timings_s"]["by_stage"]) >= {"extract", "core", "platform", "exports", "checks"}
    # every catalogue rule applies to the demo's years: none is skipped, and the count is not made up
    assert s["checks"]["not_applicable"] == 0 and s["checks"]["evaluated"] > 100


def test_second_run_with_unchanged_sources_adds_nothing_and_changes_no_output(first_run, ran):
    code, second, output = run()
    assert code == 0, output
    assert [(f["table"], f["rows"], f["sha256"]) for f in second["files"]] == [
        (f["table"], f["rows"], f["sha256"]) for f in first_run["files"]
    ]
    with duckdb.connect(str(ran / "warehouse.duckdb"), read_only=True) as con:
        systems = con.execute("select count(distinct system) from audit.batch").fetchone()[0]
        batches = con.execute("select count(*) from audit.batch").fetchone()[0]
        inserted, closed = con.execute(  # the second run's batches come after the first run's
            "select sum(rows_inserted), sum(rows_closed) from audit.load_log where batch_id > ?", [systems]
        ).fetchone()
    assert systems == 8 and batches == 16 and (inserted, closed) == (0, 0)


def test_failed_run_names_the_source_and_keeps_the_last_good_outputs(first_run, ran):
    (ran / "demo" / "hr.sqlite").rename(ran / "demo" / "hr.moved")
    before = {p.name: p.read_bytes() for p in Path(first_run["output_folder"]).iterdir()}
    code, summary, output = run()
    assert code == 1
    assert "source database for system 'hr' not found" in output and "STATEDATA_HR_URL" in output
    assert summary["retries"] == {}  # a missing database will not come back by itself: no retries
    assert "Traceback" not in output
    assert {p.name: p.read_bytes() for p in Path(first_run["output_folder"]).iterdir()} == before
    # without --json: stdout says it failed and why, in its first lines, not Dagster's wrapper error
    res = CliRunner().invoke(main, ["run", "--year", ACADEMIC_YEAR, "--quiet"])
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    assert res.exit_code == 1 and lines[0].startswith("Run FAILED"), res.stdout
    assert "STATEDATA_HR_URL" in lines[1] and "DagsterExecutionStepExecutionError" not in res.output


def test_bad_mapping_file_stops_with_file_and_field(home, tmp_path, monkeypatch):
    from model.settings import Settings

    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for p in Settings.from_env().mappings_dir.glob("*.yaml"):
        text = p.read_text(encoding="utf-8")
        if p.name == "hr.yaml":
            text = text.replace("primary_key: staff_id", "primary_key: staff_no")
        (mappings / p.name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("STATEDATA_MAPPINGS", str(mappings))
    # a fresh process, as a user would run it (the definitions are built when the module is imported)
    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--year", ACADEMIC_YEAR],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 2  # a configuration to correct, like a bad setting
    assert "hr.yaml: entities.staff.primary_key: 'staff_no' is not a field" in res.stderr
    assert "Traceback" not in res.stderr


def test_cli_help_and_bad_year(home):
    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0 and "statedata demo" in res.output and "statedata run" in res.output
    res = CliRunner().invoke(main, ["run", "--year", "2026"])
    assert res.exit_code == 2 and "academic year '2026' is not of the form 2026-2027" in res.output


def test_a_batch_is_all_or_nothing(first_run, ran, monkeypatch):
    """A failure while loading the HR system's second entity leaves none of that batch visible."""
    import assets.raw

    real = assets.raw.raw.load_entity

    def failing(con, spec, entity, *args, **kwargs):
        if spec.system == "hr" and entity.name == "staff":
            raise RuntimeError("disk full (simulated)")
        return real(con, spec, entity, *args, **kwargs)

    def snapshot():
        with duckdb.connect(str(ran / "warehouse.duckdb"), read_only=True) as con:
            return (
                con.execute("select count(*) from audit.batch where system = 'hr'").fetchone()[0],
                con.execute("select count(*) from audit.load_log where system = 'hr'").fetchone()[0],
                con.execute("select count(*), max(_batch_id) from raw.hr__org_unit").fetchone(),
            )

    # a change the failed batch would have loaded (org units are loaded before staff)
    with sqlite3.connect(ran / "demo" / "hr.sqlite") as s:
        s.execute("update RS_JGXX set JGMC = JGMC || '（新）' where JGDM = '101'")
    before = snapshot()
    monkeypatch.setattr(assets.raw.raw, "load_entity", failing)
    code, summary, output = run()
    assert code == 1 and not summary["success"]
    [error] = summary["errors"]
    assert error["step"] == "extract_hr", error
    assert error["error"].startswith("hr: loading batch") and error["error"].endswith(
        "RuntimeError: disk full (simulated)"
    )
    assert summary["retries"] == {}
    assert snapshot() == before


def test_a_dropped_source_is_retried_and_the_run_completes(home, monkeypatch):
    """The academic database drops the connection once during extraction; the step is retried."""
    from connectors.base import SourceError
    from connectors.sql import SqlSource

    real = SqlSource.extract
    calls = {"n": 0}

    def flaky(self, entity):
        if self.spec.system == "academic" and entity.name == "student":
            calls["n"] += 1
            if calls["n"] == 1:
                raise SourceError("academic: reading XJ_XSJBXX failed: server closed the connection", transient=True)
        return real(self, entity)

    monkeypatch.setattr(SqlSource, "extract", flaky)
    code, summary, output = run()
    assert code == 0, output
    assert summary["retries"] == {"extract_academic": 1} and calls["n"] == 2
    assert "retrying (academic: reading XJ_XSJBXX failed: server closed the connection)" in output


def test_a_bad_file_in_a_drop_is_set_aside_and_the_rest_loads(home):
    """A password-protected enrolment plan lands in the admissions folder next to the good ones."""
    corpus = Path(__file__).resolve().parents[1] / "fixtures" / "bad_drops"
    shutil.copy(corpus / "plan_12_password.xlsx", home / "demo" / "admissions" / "2023年分专业招生计划执行情况.xlsx")
    code, summary, output = run()
    assert code == 0, output
    a = summary["accounting"]
    assert a["rows_read"] == a["rows_loaded"] + a["rows_quarantined"] and a["files_rejected"] == 1
    assert summary["row_counts"]["raw.admissions__enrolment_plan"] == 48  # the three good files
    assert {
        "asset": "raw.admissions__enrolment_plan",
        "check": "load_accounting",
        "passed": False,
        "severity": "ERROR",
    } in summary["checks"]["failures"]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        [(source, reason)] = con.execute(
            "select source, reason from audit.quarantine where entity = 'enrolment_plan'"
        ).fetchall()
    assert source == "2023年分专业招生计划执行情况.xlsx" and "password-protected" in reason
