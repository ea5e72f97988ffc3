"""`statedata dev` serves the asset graph in the Dagster UI, runs what the UI launches as the one writer of the
working folder, and stops cleanly.

One `statedata dev` (webserver and daemon) for the module, on a copy of the session's working folder after a
first `statedata run`. Runs are launched the way the UI launches them: its GraphQL mutation on /graphql.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ACADEMIC_YEAR, cli_env
from warehouse.runlock import run_lock

RUN_TIMEOUT = 900  # a whole run of the small demo, queued and launched by the daemon, on two cores

LAUNCH = """
mutation LaunchPipelineExecution($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
  }
}"""

EVENTS = """
query RunEvents($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
    __typename
    ... on EventConnection {
      cursor hasMore
      events {
        __typename
        ... on MessageEvent { message eventType }
        ... on ErrorEvent { error { message causes { message } } }
        ... on AssetCheckEvaluationEvent { evaluation { checkName success assetKey { path } } }
      }
    }
    ... on PythonError { message }
  }
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port, query, **variables):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        body = json.loads(r.read())
    assert not body.get("errors"), body["errors"]
    return body["data"]


@pytest.fixture(scope="module")
def ui(tmp_path_factory, ran_src):
    """`statedata dev` on a private copy of the working folder after the session's run: (port, home)."""
    home = tmp_path_factory.mktemp("ui") / "home"
    shutil.copytree(ran_src[0], home, symlinks=True)  # as tests/conftest.py copies it
    port = free_port()
    log = (home.parent / "dev.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "dev", "--port", str(port)],
        env=cli_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, "statedata dev exited"
                assert time.monotonic() < deadline, "UI did not come up in 120 s"
                time.sleep(1)
        yield port, home
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("statedata dev did not stop on SIGTERM")
        finally:
            log.close()


def asset_nodes(port) -> list[dict]:
    """Every asset with its checks, as the asset graph's "Materialize all" reads them."""
    data = graphql(
        port,
        "{ assetNodes { assetKey { path } repository { name location { name } } "
        "assetChecksOrError { ... on AssetChecks { checks { name jobNames "
        "executionForLatestMaterialization { runId status } } } } } }",
    )
    return data["assetNodes"]


def launch_like_the_ui(port, nodes: list[dict]) -> str:
    """What "Materialize" on the asset graph sends for these assets and one academic year: the implicit asset
    job, the assets and their checks, the partition tag. The run id."""
    repo = nodes[0]["repository"]
    params = {
        "mode": "default",
        "runConfigData": "{}",
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": ACADEMIC_YEAR}]},
        "selector": {
            "repositoryLocationName": repo["location"]["name"],
            "repositoryName": repo["name"],
            "pipelineName": "__ASSET_JOB",
            "assetSelection": [{"path": n["assetKey"]["path"]} for n in nodes],
            "assetCheckSelection": [
                {"assetKey": {"path": n["assetKey"]["path"]}, "name": c["name"]}
                for n in nodes
                for c in n["assetChecksOrError"].get("checks", [])
                if not c["jobNames"] or "__ASSET_JOB" in c["jobNames"]
            ],
        },
    }
    result = graphql(port, LAUNCH, executionParams=params)["launchPipelineExecution"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def wait_for(port, run_id) -> str:
    """The run's final status, once the daemon has dequeued, launched and finished it."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        run = graphql(port, "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", id=run_id)
        status = run["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        assert time.monotonic() < deadline, f"run {run_id} still {status} after {RUN_TIMEOUT} s"
        time.sleep(2)


def events(port, run_id) -> list[dict]:
    out, cursor = [], None
    while True:
        conn = graphql(port, EVENTS, runId=run_id, cursor=cursor)["logsForRun"]
        assert conn["__typename"] == "EventConnection", conn
        out += conn["events"]
        cursor = conn["cursor"]
        if not conn["hasMore"]:
            return out


def error_text(event: dict) -> str:
    err = event.get("error") or {}
    return " ".join(
        [event.get("message") or "", err.get("message") or "", *(c["message"] for c in err.get("causes") or [])]
    )


def test_dev_serves_the_asset_graph_with_failed_checks_on_the_assets_they_guard(ui):
    port, _ = ui  # after a run, recorded in its Dagster history
    data = graphql(port, "{ assetNodes { assetKey { path } groupName } }")
    keys = {tuple(n["assetKey"]["path"]) for n in data["assetNodes"]}
    assert ("platform", "student") in keys and ("raw", "hr__staff") in keys and len(keys) > 50
    # the demo's bad ID numbers: a failed ERROR check on the staging table it guards, with its evidence
    data = graphql(
        port,
        '{ assetCheckExecutions(assetKey: {path: ["staging", "student"]}, checkName: "R_XS_013", '
        "limit: 1) { status evaluation { severity metadataEntries { label } } } }",
    )
    (execution,) = data["assetCheckExecutions"]
    assert execution["status"] == "FAILED" and execution["evaluation"]["severity"] == "ERROR"
    labels = {m["label"] for m in execution["evaluation"]["metadataEntries"]}
    assert {"failing", "tolerance", "examples", "owner", "hint"} <= labels


def test_a_run_launched_from_the_ui_refuses_while_the_folder_is_in_use(ui):
    port, home = ui
    nodes = [n for n in asset_nodes(port) if n["assetKey"]["path"] == ["core", "student"]]
    with run_lock(home, "backup"):  # a `statedata backup` (or run) in this process holds the folder
        run_id = launch_like_the_ui(port, nodes)
        t = time.monotonic()
        assert wait_for(port, run_id) == "FAILURE"
        took = time.monotonic() - t
    text = "\n".join(error_text(e) for e in events(port, run_id))
    assert f"is in use by statedata backup (pid {os.getpid()}" in text, text[-3000:]
    assert took < 120, f"the refused run took {took:.0f} s"


def test_materialize_all_from_the_ui_runs_in_one_process_and_its_checks_show_their_results(ui):
    port, _ = ui
    run_id = launch_like_the_ui(port, asset_nodes(port))
    status = wait_for(port, run_id)
    evs = events(port, run_id)
    failures = [error_text(e) for e in evs if e["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent")]
    assert status == "SUCCESS", "\n".join(failures)[-3000:]
    # every step in the run worker's own process: no step subprocesses racing for the warehouse
    engine = [e["message"] for e in evs if e["__typename"] == "EngineEvent"]
    assert any(m.startswith("Executing steps in process") for m in engine), engine
    assert not any("multiprocess" in m or "Launching subprocess" in m for m in engine), engine

    evaluated = {
        (tuple(e["evaluation"]["assetKey"]["path"]), e["evaluation"]["checkName"]): e["evaluation"]["success"]
        for e in evs
        if e["__typename"] == "AssetCheckEvaluationEvent"
    }
    assert sum(evaluated.values()) > 50 and not all(evaluated.values())  # the demo's defects fail some rules
    # what the asset graph shows for each check: this run's result, never a stale or failed execution
    latest = {
        (tuple(n["assetKey"]["path"]), c["name"]): c["executionForLatestMaterialization"]
        for n in asset_nodes(port)
        for c in n["assetChecksOrError"].get("checks", [])
    }
    stale = {k: v["status"] for k, v in latest.items() if v and v["status"] in ("IN_PROGRESS", "EXECUTION_FAILED")}
    assert not stale, stale
    for key, passed in evaluated.items():
        assert latest[key]["runId"] == run_id, key
        assert latest[key]["status"] == ("SUCCEEDED" if passed else "FAILED"), (key, latest[key])
