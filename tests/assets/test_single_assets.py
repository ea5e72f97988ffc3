"""One asset at a time, materialized by Dagster on a DuckDB in a temporary folder: an extract step, a core
table and one academic-year partition of a national table, each alone. Expected figures are read straight
from the demo's HR database (SQLite), not through the product's SQL."""

import logging
import sqlite3
from dataclasses import replace
from datetime import date

import dagster as dg
import pytest
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from assets.checks import rule_checks
from assets.exports import backup_asset
from assets.raw import build_source_asset, canonical_asset
from assets.resources import StatedataResource
from assets.transform import core_assets, platform_assets
from expectations.rules import load_catalogue
from model.canonical import load_model
from model.mapping import load_mappings
from model.settings import DEMO_MAPPINGS, Settings
from reporting.templates import all_packs
from tests.conftest import ACADEMIC_YEAR, YEAR
from warehouse import db
from warehouse.backup import backups
from warehouse.db import WarehouseError

HR = load_mappings(DEMO_MAPPINGS)["hr"]
UNITS = HR.entities["org_unit"]
PARTITIONS = dg.StaticPartitionsDefinition([ACADEMIC_YEAR])


def only(assets_defs, key: dg.AssetKey) -> tuple[dg.AssetsDefinition, dg.AssetKey]:
    """The step that builds ``key`` (core and platform tables share one per layer), with that asset picked alone."""
    (found,) = [a for a in assets_defs if key in a.keys]
    return found, key


def materialize(home, asset, partition: str | None = None) -> dg.ExecuteInProcessResult:
    asset, selection = asset if isinstance(asset, tuple) else (asset, None)
    result = dg.materialize(
        [asset],
        resources={"statedata": StatedataResource(home=str(home))},
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=partition,
        raise_on_error=False,
        selection=selection and [selection],
    )
    assert result.success, [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return result


def source(home, sql: str) -> list[tuple]:
    con = sqlite3.connect(home / "demo" / "hr.sqlite")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def warehouse(home, sql: str, params=None) -> list[tuple]:
    with db.connect(home / "warehouse.duckdb", read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def extracted(home):
    """The HR system extracted alone, and the canonical relations over it (the other entities empty)."""
    materialize(home, build_source_asset(HR, Settings.from_env({})))
    materialize(home, canonical_asset(load_model(), {"hr": HR}))
    return home


def test_extract_step_alone_loads_every_source_row_once(extracted):
    home = extracted
    code = UNITS.fields["unit_code"].column
    (n, keys) = source(home, f"select count(*), count(distinct {code}) from {UNITS.source_name}")[0]
    assert warehouse(home, "select count(*) from raw.hr__org_unit") == [(n,)]
    assert warehouse(home, "select count(*) from staging.hr__org_unit") == [(n,)]
    assert warehouse(home, "select count(distinct unit_code) from staging.hr__org_unit") == [(keys,)]
    # a second materialization of the unchanged source adds no row version
    result = materialize(home, build_source_asset(HR, Settings.from_env({})))
    raw = [m for m in result.asset_materializations_for_node("extract_hr") if m.asset_key.path[0] == "raw"]
    assert raw and all(m.metadata["rows_inserted"].value == 0 for m in raw)
    assert warehouse(home, "select count(*) from raw.hr__org_unit") == [(n,)]


def test_core_and_one_platform_partition_alone(extracted):
    home = extracted
    materialize(home, only(core_assets(Settings.from_env().college), dg.AssetKey(["core", "org_unit"])))
    code, founded = UNITS.fields["unit_code"].column, UNITS.fields["founded_on"].column
    rows = source(home, f"select {code}, {founded} from {UNITS.source_name}")
    first = {}
    for unit, day in rows:  # the first version of each unit code, as listed in the source
        first.setdefault(unit, day)
    assert warehouse(home, "select count(*) from core.org_unit") == [(len(first),)]
    assert not warehouse(home, "select * from information_schema.tables where table_schema = 'core' "
                               "and table_name <> 'org_unit' and table_name <> 'national_code'")  # fmt: skip

    packs = all_packs()
    materialize(home, only(platform_assets(packs, PARTITIONS), dg.AssetKey(["platform", "org_unit"])), ACADEMIC_YEAR)
    stock = date(YEAR, 9, 1)
    expected = sorted(u for u, d in first.items() if not d or date.fromisoformat(str(d)[:10]) <= stock)
    got = warehouse(home, "select unit_code from platform.org_unit where academic_year = ? order by 1", [ACADEMIC_YEAR])
    assert [r[0] for r in got] == expected and expected


def test_a_rule_that_does_not_apply_to_the_year_is_skipped_not_passed(extracted):
    """The rules step alone, with one rule retired before any partition year: no result for it (Dagster shows
    the check as skipped, not passed) and nothing recorded in the audit tables; the other rule is evaluated."""
    home = extracted
    hr_entities = {f"staging.{e.canonical}" for e in HR.entities.values()}
    hr_rules = [r for r in load_catalogue() if r.asset in hr_entities and r.kind == "SQL"]
    hr_rules = hr_rules or [r for r in load_catalogue() if r.asset in hr_entities]
    retired, current = replace(hr_rules[0], years="2020-2021", until="2021-2022"), hr_rules[1]
    checks = rule_checks([retired, current], {"hr": HR}, load_model())
    keys = [dg.AssetCheckKey(dg.AssetKey(r.asset.split(".")), r.check_name) for r in (retired, current)]
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [build_source_asset(HR, Settings.from_env({})), canonical_asset(load_model(), {"hr": HR}), checks],
        selection=dg.AssetSelection.checks(*keys),
        resources={"statedata": StatedataResource(home=str(home))},
        instance=instance,
    )
    assert result.success
    evaluated = {e.check_name for e in result.get_asset_check_evaluations()}
    assert evaluated == {current.check_name}
    record = instance.event_log_storage.get_asset_check_execution_history(keys[0], limit=1)[0]
    assert record.status == AssetCheckExecutionRecordStatus.PLANNED  # never SUCCEEDED: resolves to skipped
    recorded = {r[0] for r in warehouse(home, "select rule_id from audit.rule_result")}
    assert recorded == {current.id}


def test_an_extract_without_its_source_location_fails_at_once_not_retried(tmp_path, monkeypatch):
    college = tmp_path / "college"
    college.mkdir()
    (college / "hr.yaml").write_text((DEMO_MAPPINGS / "hr.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("STATEDATA_MAPPINGS", str(college))
    monkeypatch.delenv("STATEDATA_HR_URL", raising=False)
    spec = load_mappings(college)["hr"]
    result = dg.materialize(
        [build_source_asset(spec, Settings.from_env({"STATEDATA_SOURCE_RETRY_DELAY": "5"}))],
        resources={"statedata": StatedataResource(home=str(tmp_path / "home"))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    events = [e.event_type_value for e in result.all_events]
    assert not result.success and "STEP_UP_FOR_RETRY" not in events
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert f"set STATEDATA_HR_URL (the mapping {college / 'hr.yaml'} reads it)" in str(failure.event_specific_data)


def test_the_backup_step_compacts_when_due_and_backs_up_when_compacting_fails(extracted, monkeypatch):
    home, path = extracted, extracted / "warehouse.duckdb"
    monkeypatch.setenv("STATEDATA_COMPACT_FREE", "0")  # due whenever the step runs
    with db.connect(path) as con:  # blocks a dropped table leaves free
        con.execute("create table core.scratch as select range as id, md5(range::varchar) as v from range(300000)")
        con.execute("checkpoint")
        con.execute("drop table core.scratch")
    size = path.stat().st_size
    materialize(home, backup_asset())
    assert path.stat().st_size < size and len(backups(home / "backups")) == 1

    def full_disk(warehouse):
        raise WarehouseError(f"compacting {warehouse} failed (IOException: No space left on device)")

    monkeypatch.setattr("warehouse.compact.compact", full_disk)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([backup_asset()], resources={"statedata": StatedataResource(home=str(home))},
                            instance=instance)  # fmt: skip
    assert result.success and len(backups(home / "backups")) == 2  # housekeeping does not fail the night
    warned = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    assert any("not compacted" in m and "No space left" in m for m in warned), warned
