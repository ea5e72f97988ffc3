import pytest

from connectors.mapping import load_mappings
from pipelines.settings import get_settings
from warehouse import db
from warehouse.templates import TemplateError, all_packs, load_pack, pack_for_year, year_params

pytestmark = pytest.mark.unit

BASE_TABLES = [
    "院校基本信息表",
    "机构设置表",
    "校内专任教师基本情况表",
    "校内兼课人员基本情况表",
    "校外兼职教师基本情况表",
    "校外兼课教师基本情况表",
    "专业设置表",
    "课程设置表",
    "在校生信息表",
]


def test_pack_has_the_nine_base_tables():
    pack = pack_for_year("2026-2027")
    assert [t.name for t in pack.tables] == BASE_TABLES
    assert year_params("2026-2027", pack)["stock_date"].isoformat() == "2026-09-01"


def test_every_column_source_is_a_mapped_field_or_computed():
    specs = load_mappings(get_settings().mappings_dir)
    for pack in all_packs():
        for t in pack.tables:
            for c in t.columns:
                if c.source.startswith("computed:"):
                    continue
                system, entity, field = c.source.split(".")
                assert field in specs[system].entities[entity].fields, (t.id, c.header, c.source)
            assert db.sql_path("platform", t.source_table).exists()


def test_no_pack_for_years_before_the_first():
    with pytest.raises(TemplateError, match="no template pack"):
        pack_for_year("2019-2020")


def test_broken_pack_names_the_table(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(
        "pack: x\nversion: 1\napplies_from: 2024-2025\nstock_date: 09-01\ntables:\n"
        "  - {id: a, number: A1, name: n, owner: o, from: core.x, key: [k], columns: [{header: h, field: k}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(TemplateError, match=r"tables\[0\] \(a\): `from` must name a platform table"):
        load_pack(p)
