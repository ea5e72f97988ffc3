"""The canonical model and the relations built from mappings: expressions, "latest wins", integer codes,
two mappings feeding one entity, an entity nothing feeds, a college view; and the documents kept in step."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from connectors.memory import MemorySource
from expectations.modeldocs import model_docs
from model.canonical import ModelError, load_model, parse_model
from model.mapping import load_mapping, model_problems
from warehouse import db, raw, staging

ROOT = Path(__file__).parents[2]
NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)
MODEL = load_model()

LEDGER = """
system: gl
department: 财务处
title: 总账系统
source: {kind: sql, env: STATEDATA_GL_URL}
entities:
  voucher_line:
    entity: ledger_entry
    table: gl_lines
    primary_key: [voucher_id, line_no]
    latest_by: [changed_at]
    fields:
      voucher_id: {column: vno, required: true}
      fiscal_year: {column: fy, type: integer, required: true}
      line_no: {column: lno, type: integer, required: true}
      posted_on: {column: pdate, type: date}
      subject_code: {column: acct, required: true}
      amount: {column: amt, type: decimal}
      direction: {column: dc, type: integer}
      changed_at: {column: ts}
      debit: {expr: "case when direction = '借' then amount else 0 end", type: decimal}
      credit: {expr: "case when direction = '贷' then amount else 0 end", type: decimal}
    translate:
      direction: {"1": 借, "2": 贷}
"""
LAND = """
system: estate
department: 资产管理处
title: 房地产系统
source: {kind: sql, env: STATEDATA_ESTATE_URL}
entities:
  parcel:
    entity: land
    table: parcels
    primary_key: parcel_id
    fields:
      parcel_id: {column: id, required: true}
      parcel_name: {column: name}
      mu: {column: area_mu, type: decimal}
      area_m2: {expr: "round(mu * 2000 / 3, 2)", type: decimal}
"""


def spec_of(tmp_path, name, text):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def load(con, spec, rows):
    source = MemorySource(spec, rows)
    extracts = {n: source.extract(e) for n, e in spec.entities.items()}
    raw.load_batch(con, spec, extracts, NOW, source.location)
    staging.load_translations(con, spec)
    return {n: staging.build_staging(con, spec, e) for n, e in spec.entities.items()}


@pytest.fixture
def con(tmp_path):
    with db.connect(tmp_path / "w.duckdb") as c:
        db.init(c)
        yield c


def test_expressions_latest_wins_and_integer_codes_make_the_canonical_rows(con, tmp_path):
    gl = spec_of(tmp_path, "gl", LEDGER)
    line = dict(vno="V1", fy=2026, lno=1, pdate="2026-03-01", acct="4101", amt=100.0, dc=2, ts="2026-03-01 10:00")
    rows = [
        line,
        line | {"amt": 120.0, "ts": "2026-03-02 09:00"},  # corrected later: this version wins
        line | {"lno": 2, "acct": "5001", "amt": 120.0, "dc": 1},
    ]
    stats = load(con, gl, {"voucher_line": rows})
    assert stats["voucher_line"] == (2, 1)  # two lines staged, one older version superseded (kept in raw)
    assert con.execute("select count(*) from raw.gl__voucher_line").fetchone() == (3,)
    staging.build_canonical(con, MODEL, {"gl": gl})
    got = con.execute(
        "select voucher_id, line_no, subject_code, debit, credit, _system from staging.ledger_entry order by line_no"
    ).fetchall()
    assert [(v, n, s, float(d), float(c), sy) for v, n, s, d, c, sy in got] == [
        ("V1", 1, "4101", 0.0, 120.0, "gl"),
        ("V1", 2, "5001", 120.0, 0.0, "gl"),
    ]


def test_two_mappings_feed_one_entity_and_an_unfed_entity_is_empty_with_its_columns(con, tmp_path):
    one = spec_of(tmp_path, "estate", LAND)
    two = spec_of(tmp_path, "estate2", LAND.replace("system: estate", "system: estate2"))
    load(con, one, {"parcel": [dict(id="L1", name="东校区", area_mu=150)]})
    load(con, two, {"parcel": [dict(id="L9", name="西校区", area_mu=30)]})
    built = staging.build_canonical(con, MODEL, {"estate": one, "estate2": two})
    assert built["land"] == (2, ["estate__parcel", "estate2__parcel"])
    rows = con.execute("select parcel_id, area_m2, _system from staging.land order by parcel_id").fetchall()
    assert [(k, float(a), s) for k, a, s in rows] == [("L1", 100000.0, "estate"), ("L9", 20000.0, "estate2")]
    # nothing feeds the leaders: the relation is there, empty, with the model's fields in its types
    assert built["leader"] == (0, [])
    cols = dict(con.execute("select column_name, column_type from (describe staging.leader)").fetchall())
    assert set(MODEL.entities["leader"].fields) <= set(cols) and "_raw_id" in cols


def test_a_college_view_defines_a_relation_from_a_lookup(con, tmp_path):
    one = spec_of(tmp_path, "estate", LAND)
    load(con, one, {"parcel": [dict(id="L1", name="东校区", area_mu=150)]})
    view = (
        "select parcel_id, 'X-' || parcel_name as parcel_name, area_m2 * 2 as area_m2, _raw_id "
        "from staging.estate__parcel"
    )
    staging.build_canonical(con, MODEL, {"estate": one}, {"land": view})
    row = con.execute("select parcel_id, parcel_name, area_m2, _system from staging.land").fetchone()
    assert (row[0], row[1], float(row[2]), row[3]) == ("L1", "X-东校区", 200000.0, "view:land")
    with pytest.raises(staging.ViewError, match="must yield _raw_id"):
        staging.build_canonical(con, MODEL, {"estate": one}, {"land": "select parcel_id from staging.estate__parcel"})


def test_mapping_problems_against_the_model_are_all_named(tmp_path):
    bad = LAND.replace("entity: land", "entity: lands").replace("system: estate", "system: estate3")
    gl = LEDGER.replace("direction: {column: dc, type: integer}", "direction: {column: dc, type: integer}\n"
                        "      line_no_text: {expr: 'line_no', type: string}")  # fmt: skip
    gl = gl.replace("line_no: {column: lno, type: integer, required: true}", "line_no: {column: lno, required: true}")
    specs = {"estate3": spec_of(tmp_path, "estate3", bad), "gl": spec_of(tmp_path, "gl", gl)}
    problems = {(p.level, p.where, p.message.split(";")[0]) for p in model_problems(specs, MODEL)}
    assert (
        "error",
        "estate3.yaml: entities.parcel.entity",
        "'lands' is not an entity of the canonical model",
    ) in problems
    assert ("error", "gl.yaml: entities.voucher_line.fields.line_no", "is string") in problems
    unused = "not in the model, read by nothing downstream: amount, direction, changed_at, line_no_text"
    assert ("note", "gl.yaml: entities.voucher_line", unused) in problems
    assert (
        "warning",
        "gl.yaml: entities.ledger_entry",
        "required field fiscal_year (会计年度) is not mapped",
    ) not in problems
    assert ("warning", "entity leader", "no mapping feeds 校领导任职 (leader): it stays empty") in problems


def test_a_broken_model_file_is_refused_with_its_place():
    with pytest.raises(ModelError, match="entities.x.fields.a.references: 'y.b' is not <entity>.<field>"):
        parse_model({"entities": {"x": {"key": "a", "fields": {"a": {"references": "y.b"}}}}}, Path("m.yaml"))
    with pytest.raises(ModelError, match=r"entities.x.key: \['b'\] must name fields"):
        parse_model({"entities": {"x": {"key": "b", "fields": {"a": {}}}}}, Path("m.yaml"))


def test_docs_model_md_is_generated_from_the_model():
    assert (ROOT / "docs" / "model.md").read_text(encoding="utf-8") == model_docs(), (
        "run: python -m expectations.modeldocs > docs/model.md"
    )


def test_no_core_sql_rule_or_template_names_a_source_system():
    """Everything downstream of the mappings reads canonical relations only: no system name, no vendor table,
    no mapping staging table (<system>__<entity>) in the core and platform SQL, the rules and the templates."""
    from model.mapping import load_mappings
    from model.settings import DEMO_MAPPINGS

    specs = load_mappings(DEMO_MAPPINGS)
    names = {s.system for s in specs.values()} | {e.source_name for s in specs.values() for e in s.entities.values()}
    files = [*(ROOT / "warehouse" / "sql").rglob("*.sql"), *(ROOT / "expectations" / "sql").glob("*.sql"),
             ROOT / "expectations" / "catalogue.yaml", *(ROOT / "reporting" / "templates").glob("*.yaml")]  # fmt: skip
    import re

    for path in files:
        text = re.sub(r"(--|#)[^\n]*", "", path.read_text(encoding="utf-8"))  # comments may explain
        assert not re.search(r"\b(staging|raw)\.[a-z0-9_]+__", text), path
        for name in names:
            if "*" in name:
                continue
            assert not re.search(rf"(?<![\w.]){re.escape(name)}\.", text), (path, name)


def test_a_translation_key_yaml_reads_as_a_flag_is_refused_with_the_fix(tmp_path):
    from model.mapping import MappingError

    field = "      ownership: {column: own}\n"
    translate = "    translate:\n      ownership: {OWN: 学校产权, OFF: 租用}\n"
    mu = "      mu: {column: area_mu, type: decimal}\n"
    text = LAND.replace(mu, mu + field) + translate
    with pytest.raises(MappingError, match=r"translate.ownership: a value reads as a yes/no flag.*quote it"):
        spec_of(tmp_path, "estate", text)
    assert spec_of(tmp_path, "estate", text.replace("OFF:", "'OFF':")).entities["parcel"].translate["ownership"] == {
        "OWN": "学校产权",
        "OFF": "租用",
    }


def test_a_view_may_hold_a_semicolon_in_a_comment_or_a_string_but_only_one_statement(tmp_path):
    from model.mapping import MappingError, load_views

    views = tmp_path / "views"
    views.mkdir()
    (views / "land.sql").write_text("-- areas; in m²\nselect 'a;b' as parcel_name, _raw_id from x\n", "utf-8")
    assert load_views(views)["land"].startswith("-- areas")
    (views / "land.sql").write_text("select 1 as _raw_id; drop table x\n", "utf-8")
    with pytest.raises(MappingError, match="one SELECT statement"):
        load_views(views)
