"""The one shape of a source client, and the in-memory fake: its rows load like a database's, quarantine
included, and a second load of the same rows adds nothing."""

from datetime import datetime, timezone

import pytest

from connectors.base import Source, SourceError
from connectors.files import FileSource
from connectors.memory import MemorySource
from connectors.sql import SqlSource
from model.mapping import load_mappings
from model.settings import DEMO_MAPPINGS
from warehouse import db, raw

HR = load_mappings(DEMO_MAPPINGS)["hr"]
NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)


def staff(staff_id, title="012", hired="2010-09-01", updated="2026-11-01 08:00:00", **more):
    row = {
        "JGH": staff_id,
        "XM": "王一",
        "XB": "男",
        "CSRQ": "1980-05-12",
        "MZM": "01",
        "SFZJH": None,
        "ZZMMM": "01",
        "XLM": "14",
        "XWM": "3",
        "ZCM": title,
        "GWLB": "ZR",
        "SFSSXJS": "是",
        "SZBMDM": "101",
        "CJGZRQ": "2005-07-01",
        "LXRQ": hired,
        "LZRQ": None,
        "GXSJ": updated,
    }
    return row | more


def org_units():
    return [{"JGDM": "101", "JGMC": "信息工程学院", "JGLB": "JX", "SJJGDM": None, "CLRQ": "2003-06-01", "ZT": "1"}]


def source(rows) -> MemorySource:
    return MemorySource(HR, {"org_unit": org_units(), "staff": rows, "external_teacher": [], "leader": []})


def test_every_client_has_the_one_shape(tmp_path, demo):
    clients = [
        SqlSource(HR, f"sqlite:///{demo}/hr.sqlite"),
        FileSource(load_mappings(DEMO_MAPPINGS)["admissions"], str(demo / "admissions")),
        source([]),
    ]
    for client in clients:
        assert isinstance(client, Source), type(client)
        client.close()


def test_bad_values_and_empty_keys_are_quarantined_with_their_reason():
    academic = load_mappings(DEMO_MAPPINGS)["academic"]

    def course(code, hours=64, credits=4.0):
        return {"KCDM": code, "KCMC": "数据库", "KCLX": "B", "KCXZ": "2", "ZXS": hours, "SJXS": 32, "XF": credits,
                "KKBMDM": "101", "SFHXKC": "1"}  # fmt: skip

    rows = [course("C1"), course("C2", hours="六十四"), course(None), course("C4", credits="4.5"), course("C5", 1.5)]
    x = MemorySource(academic, {"course": rows}).extract(academic.entities["course"])
    assert x.rows_read == 5 and x.rows_quarantined == 3
    assert sorted(x.table.column("course_id").to_pylist()) == ["C1", "C4"]
    assert x.table.column("credits").to_pylist() == [4.0, 4.5]
    reasons = {q["key"]: q["reason"] for q in x.quarantined}
    assert reasons["C2"] == "ZXS: expected integer, found '六十四'"
    assert reasons["C5"] == "ZXS: expected integer, found 1.5"
    assert "primary key KCDM is empty" in reasons["row 3"]


def test_a_missing_table_or_column_is_a_source_error_naming_it():
    with pytest.raises(SourceError, match="no table RS_WPJS"):
        MemorySource(HR, {}).extract(HR.entities["external_teacher"])
    broken = [{k: v for k, v in staff("T1").items() if k != "ZCM"}]
    with pytest.raises(SourceError, match="has no column ZCM"):
        source(broken).extract(HR.entities["staff"])


def test_incremental_extract_reads_rows_changed_since():
    rows = [staff("T1", updated="2026-11-01 08:00:00"), staff("T2", updated="2026-11-20 08:00:00")]
    x = source(rows).extract(HR.entities["staff"], since="2026-11-10 00:00:00")
    assert x.table.column("staff_id").to_pylist() == ["T2"]
    assert sorted(source(rows).extract_keys(HR.entities["staff"]).table.column("staff_id").to_pylist()) == ["T1", "T2"]


def test_loading_the_same_rows_twice_adds_nothing_and_a_change_is_one_new_version(tmp_path):
    rows = [staff("T1"), staff("T2")]
    with db.connect(tmp_path / "w.duckdb") as con:
        db.init(con)

        def load(rows):
            src = source(rows)
            extracts = {name: src.extract(e) for name, e in HR.entities.items()}
            return raw.load_batch(con, HR, extracts, NOW, src.location)[1]["staff"]

        first = load(rows)
        assert (first.rows_read, first.rows_inserted, first.rows_closed) == (2, 2, 0)
        again = load(rows)
        assert (again.rows_inserted, again.rows_unchanged, again.rows_closed) == (0, 2, 0)
        changed = load([staff("T1", title="011", updated="2026-11-28 09:00:00"), staff("T2")])
        assert (changed.rows_inserted, changed.rows_unchanged, changed.rows_closed) == (1, 1, 1)
        versions = con.execute(
            "select title_code, _valid_to_batch is null from raw.hr__staff where staff_id = 'T1' order by _batch_id"
        ).fetchall()
        assert versions == [("012", False), ("011", True)]
        assert con.execute("select count(*) from audit.batch where system = 'hr'").fetchall() == [(3,)]
