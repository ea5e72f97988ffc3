import sqlite3
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from connectors.sql import SqlSource
from model.mapping import load_mappings
from model.settings import DEMO_MAPPINGS
from warehouse import db, raw

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)


def load(con, spec, entity, url):
    batch = raw.next_batch_id(con)
    with SqlSource(spec, url) as src:
        x = src.extract(spec.entities[entity])
    con.execute("begin")
    stats = raw.load_entity(con, spec, spec.entities[entity], x, batch, NOW)
    con.execute("insert into audit.batch values (?, ?, 'test', ?, ?, 'committed')", [batch, spec.system, NOW, NOW])
    con.execute("commit")
    return stats


def test_versions_idempotent_changed_and_deleted(tmp_path, demo):
    spec = load_mappings(DEMO_MAPPINGS)["hr"]
    url = f"sqlite:///{demo}/hr.sqlite"
    with db.connect(tmp_path / "w.duckdb") as con:
        db.init(con)
        first = load(con, spec, "staff", url)
        assert first.rows_inserted == first.rows_read and first.rows_closed == 0
        again = load(con, spec, "staff", url)
        assert (again.rows_inserted, again.rows_closed, again.rows_unchanged) == (0, 0, first.rows_read)
        assert first.rows_changed_unmarked is None and again.rows_changed_unmarked == 0  # repeated keys too
        with sqlite3.connect(demo / "hr.sqlite") as s:
            changed_id = s.execute("select JGH from RS_JZGJBXX order by JGH limit 1").fetchone()[0]
            s.execute("update RS_JZGJBXX set ZCM = '011' where JGH = ?", [changed_id])
            gone_id = s.execute("select JGH from RS_JZGJBXX order by JGH desc limit 1").fetchone()[0]
            s.execute("delete from RS_JZGJBXX where JGH = ?", [gone_id])
        third = load(con, spec, "staff", url)
        assert (third.rows_inserted, third.rows_closed) == (1, 2)
        assert third.rows_changed_unmarked == 1  # its GXSJ (the change column) was left as it was
        versions = con.execute(
            "select _batch_id, _valid_to_batch, title_code from raw.hr__staff where staff_id = ? order by _batch_id",
            [changed_id],
        ).fetchall()
        assert versions[-1][1] is None and versions[-1][2] == "011" and versions[0][1] == 3
        assert (
            con.execute(
                "select count(*) from raw.hr__staff where staff_id = ? and _valid_to_batch is null", [gone_id]
            ).fetchone()[0]
            == 0
        )
        # accounting of every batch holds
        bad = con.execute(
            "select count(*) from audit.load_log where rows_read <> rows_inserted + rows_unchanged + rows_quarantined"
        ).fetchone()[0]
        assert bad == 0


def test_pedigree_columns(tmp_path, demo):
    spec = load_mappings(DEMO_MAPPINGS)["academic"]
    with db.connect(tmp_path / "w.duckdb") as con:
        db.init(con)
        load(con, spec, "student", f"sqlite:///{demo}/academic.sqlite")
        row = con.execute(
            "select _source_system, _source_table, _source_key, length(_row_hash), length(_raw_id), "
            "_batch_id, _extracted_at from raw.academic__student limit 1"
        ).fetchone()
    assert row[:2] == ("academic", "XJ_XSJBXX") and row[3] == 32 and row[4] == 32 and row[5] == 1


def test_frozen_types(tmp_path, demo):
    import pyarrow as pa

    from connectors.base import Extract

    spec = load_mappings(DEMO_MAPPINGS)["hr"]
    e = spec.entities["org_unit"]
    with db.connect(tmp_path / "w.duckdb") as con:
        db.init(con)
        load(con, spec, "org_unit", f"sqlite:///{demo}/hr.sqlite")
        cols = {n: pa.array(["x"]) for n in e.fields}
        cols["founded_on"] = pa.array([20030601])  # arrives as a number instead of text
        con.execute("begin")
        with pytest.raises(
            raw.SchemaDriftError, match="field founded_on arrived as BIGINT but raw.hr__org_unit froze it"
        ):
            raw.load_entity(con, spec, e, Extract(table=pa.table(cols), rows_read=1), 99, NOW)
        con.execute("rollback")


def test_incremental_load_equals_a_full_load(tmp_path, demo):
    """Watermark extraction (change column GXSJ) plus a key scan gives the same current rows as a full read."""
    spec = load_mappings(DEMO_MAPPINGS)["hr"]
    e = spec.entities["staff"]
    url = f"sqlite:///{demo}/hr.sqlite"
    with db.connect(tmp_path / "inc.duckdb") as con:
        db.init(con)
        load(con, spec, "staff", url)
        since = raw.watermark(con, spec, e)
        with sqlite3.connect(demo / "hr.sqlite") as s:
            ids = [r[0] for r in s.execute("select JGH from RS_JZGJBXX order by JGH limit 4")]
            s.execute("update RS_JZGJBXX set ZCM = '011', GXSJ = '2030-01-01 08:00:00' where JGH in (?, ?, ?)", ids[:3])
            s.execute("delete from RS_JZGJBXX where JGH = ?", [ids[3]])
            s.execute(
                "insert into RS_JZGJBXX select '990001', XM, XB, CSRQ, MZM, SFZJH, ZZMMM, XLM, XWM, ZCM, GWLB, "
                "SFSSXJS, SZBMDM, CJGZRQ, LXRQ, LZRQ, '2030-01-01 09:00:00' from RS_JZGJBXX where JGH = ?",
                [ids[0]],
            )
        with SqlSource(spec, url) as src:
            delta = src.extract(e, since=since)
            keys = src.extract_keys(e).table
        at_watermark = sum(1 for v in delta.table.column("updated_at").to_pylist() if v == since)
        assert delta.rows_read == 4 + at_watermark  # 3 changed + 1 new (+ rows stamped exactly at the watermark)
        con.execute("begin")
        stats = raw.load_entity(con, spec, e, delta, 2, NOW, keys=keys)
        con.execute("commit")
        assert (stats.rows_inserted, stats.rows_closed) == (4, 4)  # 3 new versions + 1 new row; 3 old + 1 deleted
        incremental = con.execute(
            "select _source_key, _row_hash from raw.hr__staff where _valid_to_batch is null order by all"
        ).fetchall()
    with db.connect(tmp_path / "full.duckdb") as con:
        db.init(con)
        load(con, spec, "staff", url)
        full = con.execute("select _source_key, _row_hash from raw.hr__staff order by all").fetchall()
    assert incremental == full


def test_a_mapping_that_reads_a_new_field_upgrades_the_raw_table(tmp_path, demo):
    """A new version's mapping adds a field: the raw table gains the column, every row is read again
    (even where the mapping reads incrementally) and each current row gets the new field's value."""
    import dataclasses

    spec = load_mappings(DEMO_MAPPINGS)["academic"]
    new = spec.entities["major"]
    old = dataclasses.replace(new, fields={k: v for k, v in new.fields.items() if k not in ("leader_id", "head_id")})
    old_spec = dataclasses.replace(spec, entities=spec.entities | {"major": old})
    url = f"sqlite:///{demo}/academic.sqlite"
    with db.connect(tmp_path / "w.duckdb") as con:
        db.init(con)
        first = load(con, old_spec, "major", url)
        assert raw.watermark(con, old_spec, old) is not None  # incremental from now on…
        assert raw.watermark(con, spec, new) is None  # …unless the mapping reads more fields
        second = load(con, spec, "major", url)
        assert second.rows_inserted == second.rows_closed == first.rows_read
        current = con.execute(
            "select count(*), count(leader_id) from raw.academic__major where _valid_to_batch is null"
        ).fetchone()
        assert current == (first.rows_read, first.rows_read)
        assert load(con, spec, "major", url).rows_inserted == 0


def test_an_incremental_table_is_read_whole_when_its_reconciliation_is_due(tmp_path, demo):
    from datetime import timedelta

    spec = load_mappings(DEMO_MAPPINGS)["hr"]
    staff = spec.entities["staff"]
    with db.connect(tmp_path / "w.duckdb") as con:
        db.init(con)
        assert raw.incremental_start(con, spec, staff, 7, NOW) is None  # first load: whole
        load(con, spec, "staff", f"sqlite:///{demo}/hr.sqlite")  # a whole read at NOW
        mark = raw.watermark(con, spec, staff)
        assert mark is not None
        assert raw.incremental_start(con, spec, staff, 7, NOW + timedelta(days=6)) == mark
        assert raw.incremental_start(con, spec, staff, 7, NOW + timedelta(days=7)) is None
        assert raw.incremental_start(con, spec, staff, 0, NOW) is None  # 0: every run reconciles
        # what keeps a night with nothing changed from skipping the whole read (pipelines/nochange.py)
        only_staff = {"hr": replace(spec, entities={"staff": staff})}
        assert raw.whole_read_due(con, only_staff, 7, NOW + timedelta(days=6)) == []
        assert raw.whole_read_due(con, only_staff, 7, NOW + timedelta(days=7)) == ["hr.RS_JZGJBXX"]
        assert raw.unreconciled(con, {"hr": spec}) == []
        con.execute("update audit.load_log set extraction = 'changed' where entity = 'staff'")
        assert raw.unreconciled(con, {"hr": spec}) == ["hr.RS_JZGJBXX"]
