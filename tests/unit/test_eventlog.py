"""The run history's event log (pipelines/eventlog.py): the DAGSTER_HOME statedata writes uses it, a run's events
are stored in Dagster's usual files and read back by another instance, and one engine serves each file."""

import time
import uuid

import dagster as dg

from model.settings import Settings
from pipelines.cli.common import dagster_home
from pipelines.eventlog import SqliteEventLog


@dg.asset
def one() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 1})


SEEN: list = []  # what the watcher of test_another_process… has been told, as the slow asset sees it
SEEN_MID_STEP: list = []


@dg.asset
def slow_one() -> dg.MaterializeResult:
    time.sleep(2.5)  # more than a checkpoint's second after the step's start was stored
    SEEN_MID_STEP.extend(SEEN)
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


def test_another_process_watching_a_run_sees_its_events_as_it_goes(tmp_path, monkeypatch):
    """`statedata dev` shows a run's events as they come: it watches the run's .db file, which the open connection
    changes at each checkpoint (within a second of each event, while the run goes)."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    dagster_home(Settings.from_env({"STATEDATA_HOME": str(tmp_path)}))
    run_id = str(uuid.uuid4())
    with dg.DagsterInstance.get() as watcher, dg.DagsterInstance.get() as instance:
        watcher.watch_event_logs(run_id, None, lambda entry, cursor: SEEN.append(entry.dagster_event_type))
        defs = dg.Definitions(assets=[slow_one], jobs=[dg.define_asset_job("j")])
        assert defs.resolve_job_def("j").execute_in_process(instance=instance, run_id=run_id).success
        deadline = time.monotonic() + 10
        while dg.DagsterEventType.RUN_SUCCESS not in SEEN and time.monotonic() < deadline:
            time.sleep(0.1)
    assert dg.DagsterEventType.STEP_START in SEEN_MID_STEP  # told before the step ended
    assert dg.DagsterEventType.RUN_SUCCESS in SEEN


def test_a_long_lived_process_keeps_few_files_open(tmp_path, monkeypatch):
    """The UI reads many runs' files: the least recently used are closed, so open files stay bounded."""
    from pipelines.eventlog import OPEN_FILES

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    dagster_home(Settings.from_env({"STATEDATA_HOME": str(tmp_path)}))
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        for i in range(OPEN_FILES + 5):
            with storage.run_connection(f"run-{i}") as conn:
                conn.exec_driver_sql("select 1")
            with storage.run_connection("run-0") as conn:  # used again each time: the one kept longest
                conn.exec_driver_sql("select 1")
        assert "index" in storage.engines and "run-0" in storage.engines
        assert len(storage.engines) == OPEN_FILES + 1


def test_what_the_index_has_is_asked_once_per_table_and_column(tmp_path, monkeypatch):
    """Dagster asks before storing each asset or check event whether a table or column of the index exists (a new
    engine each time); ours asks the file once for each, and never takes an absence for granted."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    asked: list = []
    has_table, has_col = SqliteEventLogStorage.has_table, SqlEventLogStorage._has_asset_key_col_on_connection
    monkeypatch.setattr(SqliteEventLogStorage, "has_table", lambda s, t: asked.append(t) or has_table(s, t))
    monkeypatch.setattr(
        SqlEventLogStorage, "_has_asset_key_col_on_connection", lambda s, c, n: asked.append(n) or has_col(s, c, n)
    )
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    dagster_home(Settings.from_env({"STATEDATA_HOME": str(tmp_path)}))
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        defs = dg.Definitions(assets=[one], asset_checks=[one_is_one], jobs=[dg.define_asset_job("j")])
        for _ in range(3):
            assert defs.resolve_job_def("j").execute_in_process(instance=instance).success
        assert "asset_check_executions" in asked and "last_materialization_timestamp" in asked
        assert sorted(asked) == sorted(set(asked))  # three runs, a dozen events each: each asked once
        asked.clear()
        assert storage.has_table("asset_event_tags") and not storage.has_table("no_such_table")
        assert not storage.has_table("no_such_table") and asked == ["no_such_table", "no_such_table"]
