"""Rules generated from the canonical model: each kind finds exactly the rows that break it, a kind the
catalogue checks is not generated twice, and an entity nothing feeds gets a warning naming what it costs."""

from pathlib import Path

from expectations.generated import generated_rules
from expectations.rules import Rule, evaluate_all, load_catalogue
from model.canonical import load_model
from model.mapping import load_mapping, load_mappings
from model.settings import DEMO_MAPPINGS
from warehouse import db, staging

MODEL = load_model()
CATALOGUE = load_catalogue()
LAND = """
system: estate
department: 资产管理处
title: 房地产系统
source: {kind: sql, env: STATEDATA_ESTATE_URL}
entities:
  land:
    table: parcels
    primary_key: parcel_id
    fields:
      parcel_id: {column: id, required: true}
      area_m2: {column: m2, type: decimal, required: true}
"""


def by_id(rules: list[Rule]) -> dict[str, Rule]:
    return {r.id: r for r in rules}


def test_the_demo_gets_the_generated_rules_the_catalogue_lacks_and_no_duplicate():
    rules = by_id(generated_rules(MODEL, load_mappings(DEMO_MAPPINGS), CATALOGUE))
    # the catalogue checks students' required fields, codes and key itself (R-XS-010/011/012): not again
    assert not {"G-student-required", "G-student-codes", "G-student-unique"} & set(rules)
    # and the references it covers (R-XS-001 student.major_id): not again; an uncovered one is generated
    assert "G-student-major_id-ref" not in rules and "G-class-major_id-ref" in rules
    assert rules["G-land-unique"].severity == "error" and rules["G-land-range"].severity == "warning"
    assert not [r for r in rules.values() if r.id.endswith("-source")]  # the demo feeds every entity
    assert all(r.owner for r in rules.values()) and rules["G-land-unique"].owner == "资产管理处"


def test_each_generated_kind_names_exactly_the_broken_rows(tmp_path):
    spec = tmp_path / "estate.yaml"
    spec.write_text(LAND, encoding="utf-8")
    rules = [r for r in generated_rules(MODEL, {"estate": load_mapping(spec)}, CATALOGUE) if r.asset == "staging.land"]
    assert {r.id for r in rules} == {"G-land-required", "G-land-unique", "G-land-range", "G-land-volume"}
    rules = [r for r in rules if r.id != "G-land-volume"]  # it reads the raw table's loads: tested below
    with db.connect(tmp_path / "w.duckdb") as con:
        db.init(con)
        con.execute("""create table staging.land as select * from (values
            ('ok', 'L1', 100.0), ('dup1', 'L2', 5.0), ('dup2', 'L2', 6.0), ('empty', 'L3', null), ('neg', 'L4', -1.0))
            t(_raw_id, parcel_id, area_m2)""")
        results = {
            r.rule.id: {f["raw_id"] for f in r.failures} for r in evaluate_all(con, rules, "2026-2027", {}, MODEL)
        }
    assert results == {"G-land-required": {"empty"}, "G-land-unique": {"dup1", "dup2"}, "G-land-range": {"neg"}}


def test_an_entity_nothing_feeds_gets_a_warning_naming_the_national_tables_it_leaves_empty(tmp_path):
    specs = load_mappings(DEMO_MAPPINGS)
    del specs["library"]
    costs = {"library_item": ["A3-2 图书情况表"]}
    rules = by_id(generated_rules(MODEL, specs, CATALOGUE, costs=costs))
    source = rules["G-library_item-source"]
    assert source.severity == "warning" and "A3-2 图书情况表" in source.message and "馆藏" in source.message
    with db.connect(Path(tmp_path) / "w.duckdb") as con:
        db.init(con)
        staging.build_canonical(con, MODEL, specs)  # library_item: empty, nothing feeds it
        (result,) = evaluate_all(con, [source], "2026-2027", {}, MODEL)
    assert not result.passed and result.failing == 1


def test_rules_are_addressed_to_the_departments_as_the_college_names_them(tmp_path):
    from expectations.generated import rule_set
    from model.settings import Settings

    text = "departments: {学生工作处: 学生处, 人事处: 组织人事部}\nowners: {staff: 人事处}\n"
    (tmp_path / "college.yaml").write_text(text, encoding="utf-8")
    settings = Settings.from_env({"STATEDATA_COLLEGE": str(tmp_path), "STATEDATA_MAPPINGS": str(DEMO_MAPPINGS)})
    owners = {r.id: r.owner for r in rule_set(settings)}
    assert owners["R-XS-001"] == "学生处" and owners["R-JS-011"] == "组织人事部"
    assert "学生工作处" not in owners.values() and "人事处" not in owners.values()
    assert settings.college.owner("staff") == "组织人事部"  # the core table's owner too


def test_a_source_table_that_loses_most_of_its_rows_fails_its_volume_rule(tmp_path):
    """Issue 14, finding 5: a table that empties, or loses more than the allowed share, in one load is an error
    (the national table would be published empty or short), whatever the extraction."""
    from datetime import datetime, timezone

    from connectors.memory import MemorySource
    from warehouse import raw

    path = tmp_path / "estate.yaml"
    path.write_text(LAND, encoding="utf-8")
    spec = load_mapping(path)
    (rule,) = [r for r in generated_rules(MODEL, {"estate": spec}, CATALOGUE) if r.id == "G-land-volume"]
    assert rule.severity == "error" and rule.owner == "资产管理处"

    def load(n: int):
        source = MemorySource(spec, {"land": [dict(id=f"L{i}", m2=100.0) for i in range(n)]})
        raw.load_batch(con, spec, {"land": source.extract(spec.entities["land"])}, datetime.now(timezone.utc), "m")
        staging.build_staging(con, spec, spec.entities["land"])
        staging.build_canonical(con, MODEL, {"estate": spec})
        (result,) = evaluate_all(con, [rule], "2026-2027", {"max_row_drop": 0.5}, MODEL)
        return [f["value"] for f in result.failures]

    with db.connect(tmp_path / "w.duckdb") as con:
        db.init(con)
        assert load(10) == []  # a first load: nothing to compare with
        assert load(6) == []  # 40 % gone: within the allowed half
        assert load(2) == ["estate.parcels: 6 -> 2"]  # two thirds gone in one load
        assert load(2) == []  # stable again: the drop was reported once, by the load that made it
        assert load(0) == ["estate.parcels: 2 -> 0"]  # emptied
