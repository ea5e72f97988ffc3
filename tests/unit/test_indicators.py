"""Core indicator definitions: formulas as data, thresholds per school type, 限制招生 when configured."""

import pytest
import yaml

from reporting.indicators import DEFINITIONS, IndicatorError, evaluate, load_definitions

INPUTS = dict(
    vocational_students=9000, full_time_teachers=400, external_teachers=120, postgraduate_degree_teachers=100,
    senior_title_teachers=90, dual_qualified_teachers=250, teaching_research_m2=120000, admin_m2=12000,
    land_area_m2=500000, student_dorm_m2=60000, teaching_equipment_yuan=40_000_000,
    teaching_equipment_added_yuan=5_000_000, books_total=700000, books_added=30000, teaching_computers=900,
    multimedia_and_language_seats=7000,
)  # fmt: skip


def by_name(rows):
    return {r["name"]: r for r in rows}


def test_formulas_and_thresholds_of_the_shipped_definitions():
    rows = by_name(evaluate(INPUTS, load_definitions()))
    ratio = rows["生师比"]  # 9000 / (400 + 120 × 0.5)
    assert ratio["value"] == round(9000 / 460, 2) and ratio["pass_threshold"] == 18 and ratio["pass_result"] == "不合格"
    assert rows["生均图书"]["value"] == round(700000 / 9000, 2) and rows["生均图书"]["pass_result"] == "不合格"
    area = rows["生均教学行政用房"]
    assert area["value"] == round(132000 / 9000, 2) and area["pass_result"] == "合格"
    assert rows["双师素质教师比例"]["value"] == 62.5 and rows["双师素质教师比例"]["pass_result"] == "—"
    assert all(r["limit_result"] == "—" for r in rows.values())  # 限制招生 lines are not shipped
    # 工科 has a higher floor-area line than 综合
    assert by_name(evaluate(INPUTS, load_definitions(), "工科"))["生均教学行政用房"]["pass_threshold"] == 16


def test_limit_thresholds_when_configured_and_missing_values(tmp_path):
    raw = yaml.safe_load(DEFINITIONS.read_text(encoding="utf-8"))
    raw["indicators"][0]["limit"] = {"*": 22}
    path = tmp_path / "defs.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    defs = load_definitions(path)
    assert by_name(evaluate(INPUTS, defs))["生师比"]["limit_result"] == "未触及"
    crowded = by_name(evaluate(INPUTS | {"vocational_students": 12000}, defs))["生师比"]
    assert crowded["value"] > 22 and crowded["limit_result"] == "限制招生"
    empty = by_name(evaluate(INPUTS | {"full_time_teachers": 0, "external_teachers": 0}, defs))["生师比"]
    assert empty["value"] is None and empty["pass_result"] == "无法计算"  # no teachers: no ratio, no crash


def test_bad_definitions_are_refused_with_the_place(tmp_path):
    raw = yaml.safe_load(DEFINITIONS.read_text(encoding="utf-8"))
    raw["indicators"][1]["formula"] = "__import__('os').system('x')"
    path = tmp_path / "defs.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(IndicatorError, match="indicator postgraduate_degree_share: formula"):
        load_definitions(path)
    raw["indicators"][1]["formula"] = "nonexistent / full_time_teachers"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(IndicatorError, match=r"unknown name\(s\) \['nonexistent'\]"):
        load_definitions(path)
    with pytest.raises(IndicatorError, match="school type '理科'"):
        evaluate(INPUTS, load_definitions(), "理科")
