"""A college's code additions (<college>/codes/<table>.csv): loaded beside the national list, accepted by the
code checks (GX suites and generated rules alike), and a file for no national table is refused by name."""

import pytest

from expectations.rules import Rule, evaluate_all
from model.canonical import load_model
from warehouse import db, staging

MODEL = load_model()


def test_an_added_title_is_a_valid_code_and_keeps_its_level(tmp_path):
    codes = tmp_path / "college" / "codes"
    codes.mkdir(parents=True)
    (codes / "title.csv").write_text("code,name,level\n999,省级特聘教授,正高级\n", encoding="utf-8")
    rule = Rule("R-JS-990", "staging.staff", "规范性", "error", "0", "人事处", "m", "h", expect=["codes"])
    for folder, failing in ((None, {"r2"}), (codes, set())):
        with db.connect(tmp_path / f"w{failing!r}.duckdb") as con:
            db.init(con, folder)
            empty = staging.canonical_sql(MODEL.entities["staff"], [])  # every field of the model, no rows
            con.execute(f"create table staging.staff as {empty}")
            con.execute("insert into staging.staff (_raw_id, title_code) values ('r1', '011'), ('r2', '999')")
            (result,) = evaluate_all(con, [rule], "2026-2027", {}, MODEL)
            assert {f["raw_id"] for f in result.failures} == failing
            level = con.execute("select core.code_name('title.level', '999')").fetchone()[0]
            assert level == ("正高级" if folder else "999")


def test_a_code_file_for_no_national_table_is_refused_by_name(tmp_path):
    (tmp_path / "codes").mkdir()
    (tmp_path / "codes" / "titles.csv").write_text("code,name\n1,x\n", encoding="utf-8")
    with db.connect(tmp_path / "w.duckdb") as con, pytest.raises(ValueError, match="titles.csv: no national code"):
        db.init(con, tmp_path / "codes")
