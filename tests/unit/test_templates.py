import pytest

from model.canonical import load_model
from model.mapping import load_mappings
from model.settings import DEMO_MAPPINGS
from reporting.templates import TEMPLATES_DIR, TemplateError, all_packs, load_pack, pack_for_year, year_params
from warehouse import db

CATALOGUE = {  # national_platform.md §1.2: the tables the source systems and department forms can feed
    "A1": "院校基本信息表", "A1-6": "机构设置表", "A2": "院校领导表", "A3-1": "占地面积与建筑面积表",
    "A3-2": "图书情况表", "A3-3": "计算机、教室与校园网表", "A3-4": "教学科研仪器设备表", "A4-1": "校内实践基地表",
    "A4-2": "校外实习实训基地表", "A4-3": "职业技能鉴定机构表", "A5-1": "经费收入表", "A5-2": "经费支出表",
    "A6-1-1": "校内专任教师基本情况表", "A6-1-2": "校内专任教师授课情况表", "A6-1-3": "校内专任教师教学工作量表",
    "A6-2-1": "校内兼课人员基本情况表", "A6-3-1": "校外兼职教师基本情况表", "A6-4-1": "校外兼课教师基本情况表",
    "A7-1-1": "专业设置表", "A7-1-2": "专业带头人表", "A7-1-3": "专业负责人表", "A7-2": "课程设置表",
    "A7-3-1": "职业资格证书表", "A7-4": "顶岗实习表", "A7-5": "产学合作表", "A7-6-1": "招生表",
    "A7-6-2": "应届毕业生就业情况表", "A7-6-3": "上届毕业生就业情况表", "A8-1": "教学与学生管理文件表",
    "A8-8": "奖助学情况表", "A8-9": "重大制度创新表", "A9-3": "社会捐赠情况表", "A9-5": "质量工程表",
    "A9-6": "获奖情况表", "A10-1": "在校生信息表", "A12-3": "新生信息表",
}  # fmt: skip


def test_pack_covers_the_catalogue():
    pack = pack_for_year("2026-2027")
    numbers = {t.number: t.name for t in pack.tables}
    assert len(numbers) == len(pack.tables)  # numbers are unique
    assert CATALOGUE.items() <= numbers.items()
    assert {t.period for t in pack.tables} == {"stock", "academic_year", "calendar_year"}
    params = year_params("2026-2027", pack)
    assert params["stock_date"].isoformat() == "2026-09-01" and params["fiscal_year"] == 2026
    assert year_params("2026-2027", pack, {"equipment_min_unit_price": 800})["equipment_min_unit_price"] == 800


def test_every_column_source_is_a_canonical_field_the_demo_maps_or_computed():
    model = load_model()
    fed = {(e.canonical, f) for s in load_mappings(DEMO_MAPPINGS).values() for e in s.entities.values()
           for f in e.staged_fields()}  # fmt: skip
    for pack in all_packs():
        for t in pack.tables:
            for c in t.columns:
                if c.source.startswith("computed:"):
                    continue
                entity, field = c.source.split(".")
                assert field in model.entity(entity).fields, (t.id, c.header, c.source)
                assert (entity, field) in fed, (t.id, c.header, c.source)  # the demo fills every column
            if t.form:  # a form table's columns are the form's fields
                assert {c.field for c in t.columns} <= set(model.entity(t.form).fields), t.id
            else:
                assert db.sql_path("platform", t.source_table).exists()


def test_a_template_naming_a_field_outside_the_model_is_refused(tmp_path):
    text = (TEMPLATES_DIR / "national-2024.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "national-2024.yaml"
    bad.write_text(text.replace("source: student.origin_type", "source: academic.student.origin_type", 1), "utf-8")
    with pytest.raises(TemplateError, match="source 'academic.student.origin_type' is not <entity>.<field>"):
        load_pack(bad)


def test_a_pack_extends_another_with_changes(tmp_path):
    base = TEMPLATES_DIR / "national-2024.yaml"
    (tmp_path / "national-2024.yaml").write_bytes(base.read_bytes())
    (tmp_path / "next.yaml").write_text(
        "extends: national-2024\npack: next\nversion: '1'\napplies_from: 2030-2031\ndrop: [award]\n"
        "changes:\n  org_unit: {number: '1.6', headers: {unit_name: 单位名称}}\n",
        encoding="utf-8",
    )
    pack = pack_for_year("2031-2032", tmp_path)
    assert pack.pack == "next" and pack.extends == "national-2024"
    assert pack.table("org_unit").number == "1.6" and pack.table("org_unit").columns[1].header == "单位名称"
    assert "award" not in {t.id for t in pack.tables} and len(pack.tables) == len(load_pack(base).tables) - 1
    (tmp_path / "bad.yaml").write_text(
        "extends: national-2024\npack: bad\nversion: '1'\napplies_from: 2032-2033\n"
        "changes:\n  org_unit: {headers: {nope: x}}\n",
        encoding="utf-8",
    )
    with pytest.raises(TemplateError, match=r"bad.yaml: changes.org_unit.headers: no column\(s\) \['nope'\]"):
        load_pack(tmp_path / "bad.yaml")


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
