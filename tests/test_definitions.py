"""Smoke test: the Definitions load the way the Dagster server loads them, with the expected graph."""

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

import assets
import connectors
import departments
import expectations
import model
import pipelines
import reporting
import warehouse
from model.settings import Settings, SettingsError
from pipelines.definitions import build_definitions, nightly_schedule

defs = build_definitions(Settings.from_env({}))  # the demo college's graph, whatever this shell has set

ROOT = Path(__file__).resolve().parent.parent


def test_packages_resolve_inside_the_repository():
    for pkg in (model, connectors, warehouse, reporting, expectations, departments, assets, pipelines):
        assert Path(pkg.__file__).resolve().is_relative_to(ROOT), pkg


def test_definitions_load_like_the_server(tmp_path):
    dg.Definitions.validate_loadable(defs)
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    res = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", str(ROOT / "workspace.yaml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "pipelines.definitions" in (ROOT / "workspace.yaml").read_text()


def test_graph_has_every_layer():
    graph = defs.get_repository_def().asset_graph
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for k in (
        "raw/hr__staff",
        "staging/hr__staff",
        "raw/academic__student",
        "raw/admissions__enrolment_plan",
        "raw/office__school_profile",
        "core/student",
        "core/staff",
        "platform/student",
        "platform/full_time_teacher",
        "platform/school_basic",
        "exports/base_tables",
        "audit/warehouse_backup",
    ):
        assert k in keys
    assert not [k for k in keys if k.split("/")[0] not in ("raw", "staging", "core", "platform", "exports", "audit")]
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("raw/library__item", "load_accounting") in checks
    assert ("platform/student", "key_unique") in checks
    assert ("platform/external_teacher", "key_unique__external_part_time_teacher") in checks
    node = graph.get(dg.AssetKey(["platform", "student"]))
    assert node.partitions_def is not None and "2026-2027" in node.partitions_def.get_partition_keys()
    assert node.owners == ["team:学生工作处"]
    assert dg.AssetKey(["core", "student"]) in node.parent_keys
    assert graph.get(dg.AssetKey(["raw", "hr__staff"])).group_name == "hr"


def test_job_and_nightly_schedule(tmp_path, monkeypatch):
    monkeypatch.setenv("STATEDATA_HOME", str(tmp_path))  # no run on record there: every year is requested
    job = defs.resolve_job_def("nightly_job")
    assert job.executor_def.name == "in_process"
    # "Materialize all" and re-execution in the UI run the implicit asset job: one process, one writer
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"
    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "Asia/Shanghai"
    when = datetime(2026, 11, 24, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    ctx = dg.build_schedule_context(scheduled_execution_time=when, repository_def=defs.get_repository_def())
    # November: the collection season; the year just completed first, then the current one
    assert [r.partition_key for r in nightly_schedule(ctx)] == ["2025-2026", "2026-2027"]
    ctx = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 8, 31, 2, tzinfo=ZoneInfo("Asia/Shanghai")),
        repository_def=defs.get_repository_def(),
    )
    assert [r.partition_key for r in nightly_schedule(ctx)] == ["2025-2026"]
    ctx = dg.build_schedule_context(
        scheduled_execution_time=datetime(2027, 3, 1, 2, tzinfo=ZoneInfo("Asia/Shanghai")),
        repository_def=defs.get_repository_def(),
    )
    assert [r.partition_key for r in nightly_schedule(ctx)] == ["2026-2027"]


def test_platform_assets_describe_their_columns_and_where_they_come_from():
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey(["platform", "student"]))
    lineage = node.metadata["dagster/column_lineage"]
    assert lineage.deps_by_column["student_id"] == [
        dg.TableColumnDep(asset_key=dg.AssetKey(["staging", "student"]), column_name="student_id")
    ]
    assert (
        "students_total"
        not in graph.get(dg.AssetKey(["platform", "major"])).metadata["dagster/column_lineage"].deps_by_column
    )  # computed figures have no single source column
    schema = node.metadata["dagster/column_schema"]
    assert {c.name: c.description for c in schema.columns}["student_id"] == "学号"
    assert "Period: stock figures" in node.description and "Owner: 学生工作处" in node.description
    form = graph.get(dg.AssetKey(["platform", "donation"]))
    assert form.metadata["sql"] == "generated from form donation" and "Owner: 财务处" in form.description


def test_collection_months_setting():
    assert Settings.from_env({}).collection_months == {9, 10, 11, 12}
    assert Settings.from_env({"STATEDATA_COLLECTION_MONTHS": "9, 10"}).collection_months == {9, 10}
    with pytest.raises(SettingsError, match="months are 1 to 12"):
        Settings.from_env({"STATEDATA_COLLECTION_MONTHS": "10-13"})


SNAPSHOT = ROOT / "tests" / "golden" / "asset_graph.txt"


def graph_lines() -> list[str]:
    """The asset graph as text: each asset with its group, owners, partitioning and upstream keys; each check
    with its asset and whether it blocks."""
    graph = defs.resolve_asset_graph()
    lines = []
    for k in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(k)
        parts = "partitioned" if node.partitions_def else "whole"
        ups = ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
        lines.append(f"asset {k.to_user_string()} [{node.group_name}; {','.join(node.owners)}; {parts}] <- {ups}")
    for c in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)):
        blocking = " blocking" if graph.get_check_spec(c).blocking else ""
        lines.append(f"check {c.name} on {c.asset_key.to_user_string()}{blocking}")
    return lines


def test_asset_graph_snapshot():
    """A change to the graph (an asset, a dependency, a check, an owner) is deliberate: rewrite the snapshot
    with STATEDATA_UPDATE_GOLDEN=1 and review its diff."""
    lines = graph_lines()
    if os.environ.get("STATEDATA_UPDATE_GOLDEN") == "1":
        SNAPSHOT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert lines == SNAPSHOT.read_text(encoding="utf-8").splitlines()
