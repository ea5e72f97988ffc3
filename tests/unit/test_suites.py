"""GX suites on a staging table: each short-form expectation finds exactly the rows that break it, and
names them by their raw row id. Plus the working-day arithmetic of the timeliness rule."""

from datetime import date
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc

from expectations.rules import CatalogueError, Rule, evaluate_all, ready_by, start_suites
from expectations.suites import SuiteError, expectations, started_ahead
from model.canonical import load_model
from model.mapping import load_mappings, translations
from warehouse import db, offload
from warehouse.fingerprint import Fingerprints

MAPPINGS = Path(__file__).parents[2] / "demo_campus" / "college" / "mappings"
MODEL = load_model()
STAFF = MODEL.entities["staff"]
TRANSLATED = translations(load_mappings(MAPPINGS))  # what the demo's mappings translate to (post_type …)


def id_card(birth: str, male: bool) -> str:
    body = "110101" + birth.replace("-", "") + ("013" if male else "024")
    return body + ric.calc_check_digit(body + "0")  # stdnum wants the number with a check digit place


GOOD = dict(staff_id="S1", name="张三", gender="1", birth_date="1980-05-06", ethnicity="01",
            id_card=id_card("1980-05-06", True), political_status=None, education="21", degree="4",
            title_code="011", post_type="专任教师", dual_qualified="1", dept_code="D1", hired_on="2005-09-01",
            left_on=None, birth_text="1980-05-06")  # fmt: skip
BROKEN = {  # raw id -> the change that breaks one rule, and the rule
    "r_name": ({"name": None}, "required"),
    "r_gender": ({"gender": "男"}, "codes"),
    "r_post": ({"post_type": "XZG"}, "codes"),
    "r_checksum": ({"id_card": id_card("1980-05-06", True)[:-1] + "0"}, "id_card"),
    "r_birth": ({"birth_date": "1981-05-06", "birth_text": "1981-05-06"}, "id_card_birth"),
    "r_sex": ({"gender": "2"}, "id_card_sex"),
    "r_left": ({"left_on": "2004-01-01"}, "date_order"),
    "r_date": ({"birth_date": None, "birth_text": "1980-02-30"}, "valid_date"),
    "r_old": ({"birth_date": "1940-05-06", "birth_text": "1940-05-06", "id_card": id_card("1940-05-06", True)},
              "age"),
}  # fmt: skip
KIND_RULES = {
    "required": ["required"],
    "codes": ["codes"],
    "id_card": [{"id_card": "id_card"}],
    "id_card_birth": [{"id_card_birth": ["id_card", "birth_date"]}],
    "id_card_sex": [{"id_card_sex": ["id_card", "gender"]}],
    "date_order": [{"date_order": ["hired_on", "left_on"]}],
    "valid_date": [{"valid_date": ["birth_date"]}],
    "age": [{"age": {"birth": "birth_date", "until": "left_on", "min": 16, "max": 75}}],
    "unique": [{"unique": ["staff_id"]}],
}


@pytest.fixture
def con(tmp_path):
    rows = [dict(GOOD, _raw_id="r_good")] + [
        dict(GOOD, staff_id=f"S{i + 2}", _raw_id=raw_id) | change
        for i, (raw_id, (change, _)) in enumerate(BROKEN.items())
    ]
    rows.append(dict(GOOD, _raw_id="r_dup"))  # staff_id S1 again
    with db.connect(tmp_path / "w.duckdb") as c:
        db.init(c)
        cols = [k for k in GOOD if k != "birth_text"]
        c.execute(  # the canonical relation: typed fields, the birth date's source text, the raw row id
            "create table staging.staff ("
            + ", ".join(f"{k} {'date' if k in ('birth_date', 'hired_on', 'left_on') else 'varchar'}" for k in cols)
            + ", birth_date__text varchar, _raw_id varchar)"
        )
        c.executemany(
            f"insert into staging.staff values ({', '.join('?' * (len(cols) + 2))})",
            [[r[k] for k in cols] + [r["birth_text"], r["_raw_id"]] for r in rows],
        )
        c.execute("create table raw.hr__staff (_raw_id varchar, birth_date varchar, _source_system varchar, "
                  "_source_table varchar, _source_key varchar)")  # fmt: skip
        c.executemany(
            "insert into raw.hr__staff values (?, ?, 'hr', 'RS_JZGJBXX', ?)",
            [[r["_raw_id"], r["birth_text"], r["staff_id"]] for r in rows],
        )
        yield c


def test_each_expectation_kind_names_exactly_the_broken_rows(con):
    rules = [
        Rule(f"R-JS-9{i:02d}", "staging.staff", "规范性", "error", "0", "人事处", "m", "h", expect=spec)
        for i, spec in enumerate(KIND_RULES.values())
    ]
    results = evaluate_all(con, rules, "2026-2027", {"stock_date": date(2026, 9, 1)}, MODEL, TRANSLATED)
    found = {kind: {f["raw_id"] for f in r.failures} for kind, r in zip(KIND_RULES, results)}
    expected = {kind: {raw for raw, (_, k) in BROKEN.items() if k == kind} for kind in KIND_RULES}
    expected["unique"] = {"r_good", "r_dup"}
    # r_sex has a woman's gender on a man's ID number, and r_gender a name for a code: both disagree
    expected["id_card_sex"] |= {"r_gender"}
    assert found == expected
    assert all(r.checked == len(BROKEN) + 2 for r in results)
    codes = next(r for kind, r in zip(KIND_RULES, results) if kind == "codes")
    assert {(f["column_name"], f["value"]) for f in codes.failures} == {("gender", "男"), ("post_type", "XZG")}
    dates = next(r for kind, r in zip(KIND_RULES, results) if kind == "valid_date")
    assert [(f["source_key"], f["value"]) for f in dates.failures] == [("S9", "1980-02-30")]  # the raw text


def test_suites_started_ahead_are_taken_only_for_the_relation_as_it_is(con, monkeypatch):
    """The canonical step starts the suites (start_suites); the rules step takes a started one only when the relation,
    its rules and parameters are as they were then, and validates anew otherwise."""
    rules = [
        Rule(f"R-JS-9{i:02d}", "staging.staff", "规范性", "error", "0", "人事处", "m", "h", expect=spec)
        for i, spec in enumerate(KIND_RULES.values())
    ]
    params = {"stock_date": date(2026, 9, 1)}
    submitted = []
    submit = offload.submit
    monkeypatch.setattr(offload, "submit", lambda fn, *args: submitted.append(fn) or submit(fn, *args))

    def evaluated() -> list[tuple]:
        return [(r.rule.id, r.checked, sorted(f["raw_id"] for f in r.failures)) for r in
                evaluate_all(con, rules, "2026-2027", params, MODEL, TRANSLATED)]  # fmt: skip

    alone = evaluated()
    assert len(submitted) == 1 and not started_ahead()

    # the rules step lists the rules in another order (Dagster's selected checks are a set)
    start_suites(con, rules[::-1], params, MODEL, TRANSLATED, Fingerprints(con, "2026-2027", "2025-2026"))
    assert len(submitted) == 2 and started_ahead()
    assert evaluated() == alone and len(submitted) == 2  # taken, not validated again
    assert not started_ahead()

    start_suites(con, rules, params, MODEL, TRANSLATED, Fingerprints(con, "2026-2027", "2025-2026"))
    con.execute("update staging.staff set name = '李四' where _raw_id = 'r_name'")  # fixed since
    after = evaluated()
    assert len(submitted) == 4 and not started_ahead()  # validated anew; the stale one forgotten
    assert [r for r in after if r[0] == "R-JS-900"] == [("R-JS-900", len(BROKEN) + 2, [])]
    assert [r for r in after if r[0] != "R-JS-900"] == [r for r in alone if r[0] != "R-JS-900"]

    with offload.inline():  # on one core nothing is started ahead: it would only hold the rows longer
        start_suites(con, rules, params, MODEL, TRANSLATED, Fingerprints(con, "2026-2027", "2025-2026"))
    assert not started_ahead() and len(submitted) == 4


def test_credit_code_and_code_prefix_and_numbers(tmp_path):
    good = "91110108MA01ABCD0"  # 登记管理部门 9, 类别 1, 区划 110108, 组织机构代码 MA01ABCD0
    good += uscc.calc_check_digit(good)
    assert uscc.is_valid(good)
    with db.connect(tmp_path / "w.duckdb") as c:
        db.init(c)
        c.execute("""create table staging.ledger_entry as select * from (values
            ('a', '4101', 10.0, 0.0), ('b', '9999', 1.0, 0.0), ('c', '5001', -3.0, 0.0))
            t(_raw_id, subject_code, debit, credit)""")
        c.execute(f"""create table staging.graduate_destination as select * from (values
            ('d', '{good}'), ('e', '{good[:-1]}{"0" if good[-1] != "0" else "1"}'), ('f', null))
            t(_raw_id, employer_credit_code)""")
        rules = [
            Rule("R-JF-901", "staging.ledger_entry", "规范性", "error", "0", "财务处", "m", "h",
                 expect=[{"code_prefix": {"column": "subject_code", "codes": "accounting_subject"}}]),
            Rule("R-JF-902", "staging.ledger_entry", "规范性", "warning", "0", "财务处", "m", "h",
                 expect=[{"not_negative": ["debit", "credit"]}]),
            Rule("R-JY-901", "staging.graduate_destination", "规范性", "error", "0", "招生就业处", "m",
                 "h", expect=[{"credit_code": "employer_credit_code"}]),
        ]  # fmt: skip
        found = [{f["raw_id"] for f in r.failures} for r in evaluate_all(c, rules, "2026-2027", {}, MODEL)]
    assert found == [{"b"}, {"c"}, {"e"}]


def test_a_suite_on_an_unknown_field_or_kind_is_refused():
    with pytest.raises(SuiteError, match="R-JS-999: staff has no field 'shoe_size'"):
        expectations("R-JS-999", [{"unique": ["shoe_size"]}], STAFF)
    with pytest.raises(SuiteError, match="kind must be one of"):
        expectations("R-JS-999", ["pretty"], STAFF)
    rule = Rule("R-JS-998", "staging.nobody", "规范性", "error", "0", "人事处", "m", "h", expect=["required"])
    with pytest.raises(CatalogueError, match="staging.nobody is not an entity of the canonical model"):
        evaluate_all(None, [rule], "2026-2027", {}, MODEL)


def test_ready_by_counts_chinese_working_days():
    # 2026: 国庆 1–7 October and 中秋 25–27 September are holidays. Five working days before Friday 9
    # October: 8 October, 30, 29, 28 and 24 September (a plain weekday count would say 2 October).
    assert ready_by(date(2026, 10, 9)) == (date(2026, 9, 24), True)
    # a year the calendar does not know yet: weekdays, and the answer says it is approximate
    day, exact = ready_by(date(2099, 9, 24))
    assert not exact and day == date(2099, 9, 17)


def test_the_cached_id_card_check_agrees_with_stdnum():
    from expectations.suites import valid_id_card

    good = [id_card(f"19{y:02d}-0{m}-1{d}", male) for y in range(40, 99, 7) for m in (1, 5, 9) for d in (0, 8)
            for male in (True, False)]  # fmt: skip
    bad = [g[:-1] + ("0" if g[-1] != "0" else "1") for g in good[:20]]
    odd = ["110101199002301234", "99010119900101123X", "11010119900101123", "abc", "110101190001010010"]
    odd += [v for g in good[:6] for v in (g.lower(), f" {g} ", f"{g[:6]}-{g[6:]}", f"{g[:-1]}Y")]  # compacted first
    for number in good + bad + odd:
        assert valid_id_card(number) == ric.is_valid(number), number
    assert all(valid_id_card(g) for g in good) and not any(valid_id_card(b) for b in bad)
