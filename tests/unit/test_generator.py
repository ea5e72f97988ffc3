import hashlib
import json
import sqlite3
from datetime import date

import pytest
from stdnum.cn import ric

from demo_campus.defects import KEYS, catalogue
from demo_campus.generator import SYSTEMS, GeneratorConfig, generate


def digest(folder):
    h = hashlib.sha256()
    for system in SYSTEMS:
        with sqlite3.connect(folder / f"{system}.sqlite") as con:
            for (t,) in con.execute("select name from sqlite_master where type='table' order by name"):
                for row in con.execute(f'select * from "{t}"'):
                    h.update(repr(row).encode())
    h.update((folder / "manifest.json").read_bytes())
    return h.hexdigest()


def test_same_config_same_campus(tmp_path, demo_src):
    again = tmp_path / "again"
    generate(GeneratorConfig(out_dir=again, scale="small", year=2026))
    assert digest(again) == digest(demo_src)


def test_manifest_lists_at_least_20_kinds_each_found_at_its_row(demo_src):
    manifest = json.loads((demo_src / "manifest.json").read_text(encoding="utf-8"))
    kinds = {d["kind"] for d in manifest["defects"]}
    assert len(kinds) >= 20 and kinds == {d.kind for d in catalogue(2026)}
    # every SQL-table defect is really there: the row with that key has that value in that column
    for d in manifest["defects"]:
        if d["system"] == "admissions" or d["key"] is None:
            continue
        key_col = KEYS[d["table"]]
        with sqlite3.connect(demo_src / f"{d['system']}.sqlite") as con:
            values = [
                str(v) if v is not None else None
                for (v,) in con.execute(f'select "{d["column"]}" from "{d["table"]}" where "{key_col}" = ?', [d["key"]])
            ]
        assert d["value"] in values, d


def test_clean_campus_has_valid_ids_and_no_defects(tmp_path):
    out = tmp_path / "clean"
    summary = generate(GeneratorConfig(out_dir=out, scale="small", year=2026, clean=True))
    assert summary["defects"] == []
    with sqlite3.connect(out / "academic.sqlite") as con:
        rows = con.execute("select SFZJH, CSRQ, XBM from XJ_XSJBXX").fetchall()
    with sqlite3.connect(out / "hr.sqlite") as con:
        rows += con.execute("select SFZJH, CSRQ, case XB when '男' then '1' else '2' end from RS_JZGJBXX").fetchall()
        rows += con.execute("select SFZJH, CSRQ, case XB when '男' then '1' else '2' end from RS_WPJS").fetchall()
    for id_card, birth, gender in rows:
        assert ric.is_valid(id_card)
        assert ric.get_birth_date(id_card) == date.fromisoformat(birth)
        assert int(id_card[16]) % 2 == (1 if gender == "1" else 0)


def test_true_counts_match_an_independent_count(demo_src):
    """Recount enrolled students and full-time teachers on 1 Sept straight from the SQLite files."""
    truth = json.loads((demo_src / "manifest.json").read_text(encoding="utf-8"))["truth"]
    assert set(truth) == {"2024-2025", "2025-2026", "2026-2027"}
    for year, t in truth.items():
        on = f"{year[:4]}-09-01"
        with sqlite3.connect(demo_src / "academic.sqlite") as con:
            students = con.execute(
                "select count(distinct XH) from XJ_XSJBXX where RXRQ <= ? and (LXRQ is null or LXRQ > ?)", [on, on]
            ).fetchone()[0]
        with sqlite3.connect(demo_src / "hr.sqlite") as con:
            teachers = con.execute(
                "select count(distinct JGH) from RS_JZGJBXX where GWLB = 'ZR' and LXRQ <= ? "
                "and (LZRQ is null or LZRQ > ?)",
                [on, on],
            ).fetchone()[0]
        assert (students, teachers) == (t["enrolled_students"], t["full_time_teachers"]), year
        assert students > 1500 and teachers > 80


def test_unknown_scale():
    with pytest.raises(ValueError, match="unknown scale 'huge'"):
        GeneratorConfig(out_dir="x", scale="huge")


def test_every_defect_kind_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "demo_campus.md").read_text(encoding="utf-8")
    for d in catalogue(2026):
        assert f"| `{d.kind}` | {d.category} | {d.system} | {d.table} | {d.column} | {d.description} |" in doc
