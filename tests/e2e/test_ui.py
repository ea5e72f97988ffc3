"""`statedata dev` serves the asset graph in the Dagster UI and stops cleanly."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port, query):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["data"]


def test_dev_serves_the_asset_graph_with_failed_checks_on_the_assets_they_guard(ran, tmp_path):
    port = free_port()
    home = ran  # after a run, recorded in its Dagster history
    env = {**os.environ, "STATEDATA_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "dev", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("statedata dev did not stop on SIGTERM")
