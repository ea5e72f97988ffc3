"""`statedata run` on a night when nothing changed computes nothing and keeps the outputs byte for byte; one changed
source row, an edited output or --force runs every step again, and the outputs follow the data."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from model.mapping import load_mappings
from model.settings import DEMO_MAPPINGS, Settings
from pipelines.definitions import build_definitions, nightly_schedule
from tests.conftest import ACADEMIC_YEAR, cli_env, use_home
from warehouse import db, inputs
from warehouse.compact import free_share


def statedata_run(home: Path, *args: str) -> tuple[dict, str, float]:
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--year", ACADEMIC_YEAR, "--json", *args],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout), res.stderr, time.perf_counter() - t


def outputs(home: Path) -> dict[str, str]:
    """Every file under out/ as a reader sees it (through the published links): name -> SHA-256."""
    return {
        str(p.relative_to(home / "out")): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((home / "out").glob("*/*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def settled(tmp_path_factory, ran_src) -> tuple[Path, Path, dict]:
    """A working folder after a whole run of its own (the session's run was made in another folder), and a copy
    of it to put back before each test: the same path, the same bytes and modification times."""
    base = tmp_path_factory.mktemp("settled")
    home, pristine = base / "home", base / "pristine"
    shutil.copytree(ran_src[0], home, symlinks=True)
    first, stderr, _ = statedata_run(home)
    assert "skipped" not in first
    # the session's record came along, but its sources and settings were another folder's
    assert f"running, because {inputs.SETTINGS} changed; source " in stderr
    shutil.copytree(home, pristine, symlinks=True)
    return home, pristine, first


@pytest.fixture
def night(settled) -> tuple[Path, dict]:
    home, pristine, first = settled
    shutil.rmtree(home)
    shutil.copytree(pristine, home, symlinks=True)
    return home, first


def schedule_tick(home: Path, monkeypatch):
    """The nightly schedule's evaluation, in March (one year a night), in this process as the daemon does it."""
    use_home(home, monkeypatch)
    when = datetime(int(ACADEMIC_YEAR[5:]), 3, 1, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
    return nightly_schedule(dg.build_schedule_context(scheduled_execution_time=when))


def audit(home: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def test_nothing_changed_nothing_is_computed_and_the_outputs_stay_byte_for_byte(night, monkeypatch):
    home, first = night
    before, size = outputs(home), (home / "warehouse.duckdb").stat().st_size
    batches = audit(home, "select max(batch_id) from audit.batch")[0][0]
    summary, stderr, took = statedata_run(home)
    assert summary["skipped"]["unchanged_since"] == first["run_id"]
    assert "statedata run 2026-2027: warehouse" not in stderr  # no job was started
    assert outputs(home) == before
    assert [(f["table"], f["sha256"]) for f in summary["files"]] == [(f["table"], f["sha256"]) for f in first["files"]]
    assert summary["checks"] == first["checks"] and summary["indicators"] == first["indicators"]
    # what the night did: each source system confirmed unchanged, the rules that read the clock recorded again
    systems = set(load_mappings(DEMO_MAPPINGS))
    assert {s for (s,) in audit(home, "select system from audit.batch where batch_id > ? and status = 'unchanged'",
                                [batches])} == systems  # fmt: skip
    assert audit(home, "select count(*) from audit.batch where batch_id > ? and status <> 'unchanged'", [batches]) == [
        (0,)
    ]
    rechecked = audit(
        home,
        "select rule_id from audit.rule_result where run_id = ? order by 1",
        [summary["skipped"]["confirmation"]],
    )
    assert [r for (r,) in rechecked] == summary["skipped"]["rules_rechecked"] == ["R-SJ-001", "R-SJ-002"]
    print(f"no-change run of the small demo: {took:.1f}s (process start included)")
    # the nights after, by the schedule as by the command: skipped again, and the warehouse does not grow
    tick = schedule_tick(home, monkeypatch)
    assert isinstance(tick, dg.SkipReason) and ACADEMIC_YEAR in tick.skip_message
    assert audit(home, "select count(*) from audit.batch where status = 'unchanged'") == [(2 * len(systems),)]
    again, _, _ = statedata_run(home, "--quiet")
    assert again["skipped"]["unchanged_since"] == first["run_id"]
    assert outputs(home) == before
    assert abs((home / "warehouse.duckdb").stat().st_size - size) <= 0.01 * size


def test_a_compacted_warehouse_is_the_warehouse_the_last_run_left(night):
    """`statedata compact` writes the file anew: the next night finds nothing changed. A run that finds enough of the
    file free compacts it before its backup (STATEDATA_COMPACT_FREE=0: always) and still keeps what it may."""
    home, first = night
    before = outputs(home)
    size = (home / "warehouse.duckdb").stat().st_size
    res = subprocess.run([sys.executable, "-m", "pipelines.cli", "compact"], env=cli_env(home),
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0 and "every table compared with the old file" in res.stdout, res.stderr[-2000:]
    assert (home / "warehouse.duckdb").stat().st_size < size
    again, _, _ = statedata_run(home, "--quiet")
    assert again["skipped"]["unchanged_since"] == first["run_id"] and outputs(home) == before
    with sqlite3.connect(home / "demo" / "hr.sqlite") as src:
        src.execute("update RS_JZGJBXX set XM = XM || '·' where JGH = (select min(JGH) from RS_JZGJBXX)")
    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--year", ACADEMIC_YEAR, "--json"],
        env=cli_env(home) | {"STATEDATA_COMPACT_FREE": "0"}, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    changed = json.loads(res.stdout)
    assert 0 < changed["kept"]["assets"] < changed["kept"]["of_assets"]
    assert free_share(home / "warehouse.duckdb") < 0.01  # compacted after the run's last table was replaced
    again, _, _ = statedata_run(home, "--quiet")
    assert again["skipped"]["unchanged_since"] == changed["run_id"]


def test_one_changed_source_row_runs_again_and_only_its_tables_change(night, monkeypatch):
    home, first = night
    with sqlite3.connect(home / "demo" / "hr.sqlite") as src:  # one full-time teacher's 双师素质 flag
        src.execute("update RS_JZGJBXX set SFSSXJS = case SFSSXJS when '是' then '否' else '是' end, "
                    "GXSJ = '2027-01-05 09:00:00' where JGH = (select max(JGH) from RS_JZGJBXX "
                    "where GWLB = 'ZR' and coalesce(LZRQ, '') = '')")  # fmt: skip
    (request,) = schedule_tick(home, monkeypatch)
    assert request.partition_key == ACADEMIC_YEAR
    batches = audit(home, "select max(batch_id) from audit.batch")[0][0]
    summary, stderr, _ = statedata_run(home)
    assert "skipped" not in summary and summary["run_id"] != first["run_id"]
    assert "source hr.RS_JZGJBXX changed" in stderr
    # only hr is read; every other system probes as before and is confirmed unchanged, its tables kept
    new = dict(audit(home, "select system, status from audit.batch where batch_id > ?", [batches]))
    assert new == {s: "committed" if s == "hr" else "unchanged" for s in load_mappings(DEMO_MAPPINGS)}
    read = audit(home, "select sum(rows_read) from audit.load_log where batch_id > ?", [batches])[0][0]
    assert summary["accounting"]["rows_read"] == read > 0
    was = {f["table"]: f["sha256"] for f in first["files"]}
    changed = {f["table"] for f in summary["files"] if was[f["table"]] != f["sha256"]}
    # the teacher's row of A6-1-1, and the 双师 ratio of the core indicators on the review list; every other table
    # is rewritten byte for byte the same
    assert changed == {"full_time_teacher", "review_list"}, changed
    # downstream, only what the changed rows reach is computed again: the core tables that read a canonical
    # relation whose rows changed (compared row by row with the folder before), and the one file whose rows changed
    pristine = home.parent / "pristine"
    moved = {e for e in {e.canonical for e in load_mappings(DEMO_MAPPINGS)["hr"].entities.values()}
             if rows_of(pristine, f"staging.{e}") != rows_of(home, f"staging.{e}")}  # fmt: skip
    assert moved == {"staff"}
    core = [p.stem for p in (db.SQL_DIR / "core").glob("*.sql")]
    readers = {c for c in core if any(("staging", e) in db.references("core", c) for e in moved)}
    built = audit(home, "select layer, name from audit.build where run_id = ?", [summary["run_id"]])
    assert {n for layer, n in built if layer == "core"} == readers
    assert {n for layer, n in built if layer == "export"} == {"full_time_teacher"}
    assert 0 < len([b for b in built if b[0] == "platform"]) < len(audit(home, "select * from audit.build "
                                                                          "where layer = 'platform'"))  # fmt: skip
    # and says so: tables, check results and files kept, each named kept in the progress lines
    kept = summary["kept"]
    assert 0 < kept["assets"] < kept["of_assets"] and 0 < kept["checks"] < summary["checks"]["evaluated"]
    assert kept["files_copied"] == len(summary["files"]) - len(changed)
    assert "kept" in next(line for line in stderr.splitlines() if "✓ core/student" in line)
    assert "kept" not in next(line for line in stderr.splitlines() if "✓ core/staff" in line)
    results = rule_results(home, summary["run_id"])
    # what was kept is what a run computing every step anew makes of the same data: files, results, failing rows
    forced, _, _ = statedata_run(home, "--quiet", "--force")
    assert [(f["table"], f["sha256"]) for f in forced["files"]] == [(f["table"], f["sha256"]) for f in summary["files"]]
    assert rule_results(home, forced["run_id"]) == results
    assert forced["kept"] == {"assets": 0, "of_assets": kept["of_assets"], "checks": 0, "files_copied": 0}
    assert forced["indicators"] == summary["indicators"]
    assert {k: sorted(v, key=repr) if k == "failures" else v for k, v in forced["checks"].items()} == {
        k: sorted(v, key=repr) if k == "failures" else v for k, v in summary["checks"].items()
    }  # the checks' order follows Dagster's set of selected checks, which differs from one process to the next
    again, _, _ = statedata_run(home, "--quiet")
    assert again["skipped"]["unchanged_since"] == forced["run_id"]


def rows_of(home: Path, relation: str) -> list[tuple]:
    return sorted(audit(home, f"select * from {relation}"), key=repr)


def rule_results(home: Path, run_id: str) -> list[tuple]:
    """Every rule's result in one run, with the fingerprint of the tables it examined and its failing rows."""
    return audit(home, """select rule_id, passed, failing, checked, fingerprint,
                                 list(line order by line) filter (line is not null)
                          from (select r.*, f.source_key || '|' || f.column_name || '|' || f.value as line
                                from audit.rule_result r
                                left join audit.rule_failure f using (run_id, academic_year, rule_id)
                                where run_id = ?)
                          group by all order by all""", [run_id])  # fmt: skip


def test_an_output_edited_by_hand_is_written_again_and_force_runs_every_step(night):
    home, first = night
    target = Path(first["files"][0]["path"])
    assert target.is_relative_to(home)
    target.write_bytes(b"edited")
    summary, stderr, _ = statedata_run(home)
    assert "skipped" not in summary and f"the output {target} was changed or removed" in stderr
    assert {f["table"]: f["sha256"] for f in summary["files"]} == {f["table"]: f["sha256"] for f in first["files"]}
    forced, _, _ = statedata_run(home, "--quiet", "--force")
    assert "skipped" not in forced and forced["run_id"] != summary["run_id"]


def test_a_run_dagster_started_is_on_record_too(night, monkeypatch):
    """The schedule's runs and the UI's whole-graph runs record their inputs themselves (the job's resource)."""
    home, first = night
    shutil.rmtree(home / "state")
    use_home(home, monkeypatch)
    with dg.instance_for_test() as instance:
        result = (
            build_definitions(Settings.from_env())
            .resolve_job_def("nightly_job")
            .execute_in_process(partition_key=ACADEMIC_YEAR, instance=instance, raise_on_error=False)
        )
    assert result.success
    summary, stderr, _ = statedata_run(home)
    assert summary["skipped"]["unchanged_since"] == result.run_id
    assert {f["table"]: f["sha256"] for f in summary["files"]} == {f["table"]: f["sha256"] for f in first["files"]}
    res = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--year", ACADEMIC_YEAR],
                         env=cli_env(home), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0 and "That run was started by Dagster" in res.stdout, res.stdout[-2000:]


def test_a_damaged_warehouse_is_reported_on_a_night_with_nothing_changed(night):
    """Such a night reads only the few tables it needs, not the whole warehouse (pipelines/cli/run.py _skip); damage
    it meets all the same gets the message a run gets, with the restore command, and nothing is written."""
    home, _ = night
    warehouse = home / "warehouse.duckdb"
    before, files = warehouse.stat(), outputs(home)
    with warehouse.open("r+b") as f:  # damaged where the disk left the file's size and time as they were
        f.write(b"\0" * 8192)
    os.utime(warehouse, ns=(before.st_atime_ns, before.st_mtime_ns))
    bad = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--year", ACADEMIC_YEAR],
        env=cli_env(home), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "running, because" not in bad.stderr, bad.stderr[-2000:]  # met by the night that skips, not by a run
    assert "cannot be opened" in bad.stderr and "statedata restore" in bad.stderr, bad.stderr[-2000:]
    assert "Traceback" not in bad.stderr
    assert outputs(home) == files
