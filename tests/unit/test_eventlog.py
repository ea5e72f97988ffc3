"""The run history's event log (pipelines/eventlog.py): the DAGSTER_HOME statedata writes uses it, a run's events
are stored in Dagster's usual files and read back by another instance, and one engine serves each file."""

import dagster as dg

from model.settings import Settings
from pipelines.cli.common import dagster_home
from pipelines.eventlog import SqliteEventLog


@dg.asset
def one() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 1})


@dg.asset_check(asset=one)
def one_is_one() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def test_a_run_is_stored_and_read_back_through_one_engine_per_file(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    path = dagster_home(Settings.from_env({"STATEDATA_HOME": str(tmp_path)}))
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, SqliteEventLog)
        job = dg.define_asset_job("j")
        defs = dg.Definitions(assets=[one], asset_checks=[one_is_one], jobs=[job])
        result = defs.resolve_job_def("j").execute_in_process(instance=instance)
        assert result.success
        stored = len(instance.all_logs(result.run_id))
        assert stored >= 8  # run start, step start, planned and done materialization and check, outputs, end
        # the run's own file and the index; Dagster's class would have made an engine per event
        assert set(storage.engines) == {result.run_id, "index"}
        with storage.index_connection() as conn:  # WAL (Dagster's), and no flush to disk per commit (ours)
            pragmas = [conn.exec_driver_sql(f"pragma {p}").scalar() for p in ("journal_mode", "synchronous")]
        assert pragmas == ["wal", 1]  # 1: NORMAL (2 is FULL, SQLite's default)
    assert (path / "history" / "runs" / f"{result.run_id}.db").is_file()
    with dg.DagsterInstance.get() as again:  # another process's view: the same files
        assert len(again.all_logs(result.run_id)) == stored
        latest = again.get_latest_materialization_event(dg.AssetKey("one"))
        assert latest is not None and latest.run_id == result.run_id
        check = again.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("one"), "one_is_one"), limit=1
        )
        assert check and check[0].run_id == result.run_id
