"""Proof of onboarding by configuration (issue 12, §6): a second generated college from another vendor world.

青岚职业技术学院 (tests/fixtures/second_college) runs a UniCampus ERP with English table and column names,
Chinese code names, integer and boolean flags, a ledger of amounts with a 借/贷 direction, land in 亩, every
version of a student record, and student status changes in a separate student-affairs database. It is onboarded
by its folder alone (college.yaml, mappings/, views/student.sql, finance_items.csv) and run in its own process
like any college. Its national figures and core indicators are then compared with an INDEPENDENT computation:
plain Python over its source databases and files, following the national definitions (stock date 1 September
of the academic year's first year; the academic year 1 September – 31 August; the finance tables the calendar
year it starts in), never the product's SQL.
"""

import csv
import json
import re
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from openpyxl import load_workbook

from tests.conftest import ACADEMIC_YEAR, YEAR, cli_env
from tests.fixtures.second_college import generator as college_gen

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_DIRS = [
    "model", "connectors", "warehouse", "reporting", "expectations", "departments", "assets", "pipelines",
    "demo_campus",
]  # fmt: skip

STOCK = date(YEAR, 9, 1).isoformat()  # 2026-09-01
YEAR_START, YEAR_END = date(YEAR, 9, 1).isoformat(), date(YEAR + 1, 8, 31).isoformat()
FISCAL_YEAR = YEAR

# What the college's own code values mean, as a reviewer reading its systems would write them down.
TEACHING_RESEARCH = {"CLS", "LIB", "LAB", "RSH", "SPT", "HALL"}  # 教学科研及辅助用房
LIVING = {"SDORM", "SCANT", "TDORM", "TCANT", "WELF"}  # 生活用房
SENIOR_TITLES = {"教授", "副教授", "高级工程师", "高级会计师"}  # 正高级, 副高级
POSTGRADUATE_DEGREES = {"博士", "硕士"}
EMPLOYED = {10, 11, 12, 27, 46, 50, 51, 75, 76}  # 就业: 协议 合同 其他录用 科研助理 义务兵 基层项目 创业 自由职业
COMPUTER_CLASSES = {"05010105", "05010106"}  # 台式机, 便携式计算机
INTERNSHIP = re.compile("岗位实习|顶岗实习")
ITEMS = {  # the college's accounts -> the platform's income and expenditure items
    "4001.01": "财政经常性补助收入", "4001.02": "中央、地方财政专项投入", "4101.01": "学费收入",
    "4101.02": "其他收入", "4603": "社会捐赠金额", "4604": "其他收入", "4609": "其他收入",
    "5001.01": "其他支出", "5001.02": "日常教学经费", "5001.03": "日常教学经费", "5001.04": "教学改革及研究",
    "5001.05": "师资建设", "5001.06": "图书购置费", "5001.07": "设备采购", "5101.01": "基础设施建设",
    "5101.02": "其他支出", "5301": "其他支出",
}  # fmt: skip


def _10k(yuan: Decimal) -> Decimal:
    """元 -> 万元 to 4 decimals, as the national tables publish money."""
    return (yuan / 10000).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _in_force(start, end, on) -> bool:
    return (start is None or start <= on) and (end is None or end > on)


# -- the run -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def college(tmp_path_factory):
    """The college generated into tmp and run once (`statedata run` in its own process): sources, working
    folder, environment, manifest and the run summary."""
    base = tmp_path_factory.mktemp("second_college")
    src = base / "sources"
    manifest = college_gen.generate(src)
    home = base / "home"
    home.mkdir()
    env = cli_env(home) | college_gen.source_env(src) | {"STATEDATA_COLLEGE": str(college_gen.COLLEGE_DIR)}
    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--year", ACADEMIC_YEAR, "--json", "--quiet"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout)
    return SimpleNamespace(src=src, home=home, env=env, manifest=manifest, summary=summary)


@pytest.fixture(scope="module")
def wh(college):
    with duckdb.connect(str(college.home / "warehouse.duckdb"), read_only=True) as con:
        yield con


# -- the independent computation over the sources ----------------------------------------------------------------


class Sources:
    """The college's sources as a reviewer reads them: the SQLite databases with sqlite3, the drops with csv
    and openpyxl."""

    def __init__(self, src: Path):
        self.erp = self._tables(src / "erp.sqlite")
        self.xg = self._tables(src / "xg.sqlite")
        self.lib = self._tables(src / "lib.sqlite")
        self.drops = src / "drops"

    @staticmethod
    def _tables(path: Path) -> dict[str, list[dict]]:
        con = sqlite3.connect(path)
        con.row_factory = sqlite3.Row
        names = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
        out = {n: [dict(r) for r in con.execute(f"select * from {n}")] for n in names}
        con.close()
        return out

    def csv(self, name: str) -> list[dict]:
        with open(self.drops / name, encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))

    def sheet(self, name: str, header_row: int) -> list[dict]:
        ws = load_workbook(self.drops / name, read_only=True).active
        rows = list(ws.iter_rows(values_only=True))
        head = rows[header_row - 1]
        return [dict(zip(head, r)) for r in rows[header_row:] if any(v is not None for v in r)]


@pytest.fixture(scope="module")
def truth(college) -> dict:
    return independent_figures(college.src)


def independent_figures(src: Path) -> dict:
    """Every published figure of the academic year, computed from the sources."""
    s = Sources(src)
    erp, t = s.erp, {}

    # students: the latest version of each 学号; leave date and status from the student-affairs events
    latest = {}
    for r in erp["t_student"]:
        if r["stu_no"] not in latest or r["updated_at"] > latest[r["stu_no"]]["updated_at"]:
            latest[r["stu_no"]] = r
    left, status = {}, {}
    for e in sorted(s.xg["xg_status_change"], key=lambda e: (e["change_date"], e["change_id"])):
        status[e["stu_no"]] = e["change_type"]
        if e["change_type"] in ("退学", "毕业"):
            left.setdefault(e["stu_no"], e["change_date"])
    students = list(latest.values())
    enrolled = [r for r in students if r["enrol_date"] <= STOCK and _in_force(None, left.get(r["stu_no"]), STOCK)]
    new = [r for r in enrolled if r["cohort"] == YEAR]
    majors = {m["major_no"]: m for m in erp["t_major"]}
    current_majors = {k: m for k, m in majors.items() if m["approve_date"] is None or m["approve_date"] <= STOCK}
    (profile,) = s.csv("学校概况.csv")
    t["school_basic"] = dict(
        school_code=profile["学校代码"],
        school_name=profile["学校全称"],
        majors_total=len(current_majors),
        majors_enrolling=len({r["major_no"] for r in new}),
        students_enrolled=len(enrolled),
        new_students=len(new),
        new_from_high_school=sum(r["source_type"] == "HS" for r in new),
        new_from_vocational=sum(r["source_type"] == "VS" for r in new),
        new_from_other=sum(r["source_type"] not in ("HS", "VS") for r in new),
    )
    t["student"] = dict(
        rows=len(enrolled),
        rural=sum(bool(r["is_rural"]) for r in enrolled),
        on_leave=sum(status.get(r["stu_no"]) == "休学" for r in enrolled),
    )
    t["new_student"] = dict(rows=len(new))
    t["org_unit"] = dict(rows=sum(d["est_date"] <= STOCK for d in erp["t_dept"]))
    t["school_leader"] = dict(rows=sum(_in_force(p["from_date"], p["to_date"], STOCK) for p in erp["t_leader"]))

    # majors: students by grade of the majors approved by the stock date
    by_major = defaultdict(Counter)
    for r in enrolled:
        by_major[r["major_no"]][r["cohort"]] += 1
    t["major"] = dict(
        rows=len(current_majors),
        students_total=sum(sum(by_major[k].values()) for k in current_majors),
        students_year1=sum(by_major[k][YEAR] for k in current_majors),
        students_year2=sum(by_major[k][YEAR - 1] for k in current_majors),
        students_year3=sum(by_major[k][YEAR - 2] for k in current_majors),
        classes=len({(r["major_no"], r["class_no"]) for r in enrolled if r["major_no"] in current_majors}),
        **{f"students {m['moe_code']}": sum(by_major[k].values()) for k, m in current_majors.items()},
    )
    t["major_leader"] = dict(rows=sum(m["leader_no"] is not None for m in current_majors.values()))
    t["major_head"] = dict(rows=sum(m["head_no"] is not None for m in current_majors.values()))
    plans = [p for p in erp["t_plan"] if YEAR - 2 <= p["cohort"] <= YEAR]
    t["course"] = dict(rows=len({(p["major_no"], p["course_no"]) for p in plans}))

    # staff on the stock date (a staff number given twice is one person)
    staff = {r["emp_no"]: r for r in erp["t_staff"]}
    on_duty = [r for r in staff.values() if _in_force(r["join_date"], r["leave_date"], STOCK)]
    full_time = [r for r in on_duty if r["post_cat"] == "TEA"]
    t["full_time_teacher"] = dict(
        rows=len(full_time),
        dual_qualified=sum(r["is_dual_teacher"] == 1 for r in full_time),
        postgraduate=sum(r["degree_name"] in POSTGRADUATE_DEGREES for r in full_time),
        senior=sum(r["title_name"] in SENIOR_TITLES for r in full_time),
    )
    tasks = [k for k in erp["t_task"] if k["acad_year"] == YEAR]
    hours_by_teacher = defaultdict(int)
    for k in tasks:
        hours_by_teacher[k["teacher_no"]] += k["hours"]
    part_time = [r for r in on_duty if r["post_cat"] != "TEA" and r["emp_no"] in hours_by_teacher]
    t["internal_part_time_teacher"] = dict(
        rows=len(part_time), teaching_hours=sum(hours_by_teacher[r["emp_no"]] for r in part_time)
    )
    engaged = [x for x in erp["t_ext_teacher"] if x["start_date"] <= YEAR_END and (x["end_date"] or "9") >= YEAR_START]
    t["external_part_time_teacher"] = dict(rows=sum(x["ext_type"] == "IND" for x in engaged))
    t["external_guest_teacher"] = dict(rows=sum(x["ext_type"] == "EDU" for x in engaged))
    kind = {e: "校内专任" if r["post_cat"] == "TEA" else "校内兼课" for e, r in staff.items()}
    kind |= {x["ext_no"]: "校外兼职" if x["ext_type"] == "IND" else "校外兼课" for x in erp["t_ext_teacher"]}
    for table, k in (
        ("full_time", "校内专任"),
        ("internal_part_time", "校内兼课"),
        ("external_part_time", "校外兼职"),
        ("external_guest", "校外兼课"),
    ):
        mine = [x for x in tasks if kind.get(x["teacher_no"]) == k]
        t[f"{table}_teaching"] = dict(rows=len(mine), hours=sum(x["hours"] for x in mine))
        t[f"{table}_workload"] = dict(
            rows=len({x["teacher_no"] for x in mine}), teaching_hours=sum(x["hours"] for x in mine)
        )

    # land and buildings (亩 -> m²: 1 亩 = 10000/15 m²)
    land = [p for p in erp["fa_land"] if p["obtained"] is None or p["obtained"] <= STOCK]
    buildings = [b for b in erp["fa_building"] if b["completed"] is None or b["completed"] <= STOCK]

    def area(rows, pred=lambda b: True):
        return round(sum(b["gfa"] for b in rows if pred(b)), 2)

    t["land_building"] = dict(
        land_area_m2=round(sum(p["area_mu"] * 10000 / 15 for p in land), 2),
        land_owned_m2=round(sum(p["area_mu"] * 10000 / 15 for p in land if p["property"] == "OWN"), 2),
        floor_area_total_m2=area(buildings),
        floor_area_owned_m2=area(buildings, lambda b: b["property"] == "OWN"),
        floor_area_not_owned_m2=area(buildings, lambda b: b["property"] != "OWN"),
        floor_area_new_m2=area(erp["fa_building"], lambda b: YEAR_START <= b["completed"] <= YEAR_END),
        teaching_research_m2=area(buildings, lambda b: b["purpose"] in TEACHING_RESEARCH),
        classroom_m2=area(buildings, lambda b: b["purpose"] == "CLS"),
        library_m2=area(buildings, lambda b: b["purpose"] == "LIB"),
        lab_m2=area(buildings, lambda b: b["purpose"] == "LAB"),
        research_m2=area(buildings, lambda b: b["purpose"] == "RSH"),
        gym_m2=area(buildings, lambda b: b["purpose"] == "SPT"),
        hall_m2=area(buildings, lambda b: b["purpose"] == "HALL"),
        admin_m2=area(buildings, lambda b: b["purpose"] == "OFF"),
        living_m2=area(buildings, lambda b: b["purpose"] in LIVING),
        student_dorm_m2=area(buildings, lambda b: b["purpose"] == "SDORM"),
        student_canteen_m2=area(buildings, lambda b: b["purpose"] == "SCANT"),
        staff_dorm_m2=area(buildings, lambda b: b["purpose"] == "TDORM"),
        staff_canteen_m2=area(buildings, lambda b: b["purpose"] == "TCANT"),
        welfare_m2=area(buildings, lambda b: b["purpose"] == "WELF"),
        staff_housing_m2=area(buildings, lambda b: b["purpose"] == "HOUSE"),
        other_m2=area(buildings, lambda b: b["purpose"] == "OTH"),
    )

    # equipment: in service on the stock date; 教学科研仪器设备 = teaching or research use, unit price ≥ 1000 元
    cards = erp["fa_equipment"]
    for c in cards:
        c["value"] = Decimal(str(c["price"])) * c["qty"]
        c["counted"] = c["usage"] in ("TEACH", "RES") and c["price"] >= 1000
        c["in_service"] = _in_force(c["buy_date"], c["scrap_date"], STOCK)
    serving = [c for c in cards if c["in_service"]]
    t["equipment_assets"] = dict(
        equipment_total_10k=_10k(sum((c["value"] for c in serving), Decimal(0))),
        teaching_equipment_10k=_10k(sum((c["value"] for c in serving if c["counted"]), Decimal(0))),
        teaching_equipment_count=sum(c["qty"] for c in serving if c["counted"]),
        large_equipment_count=sum(c["qty"] for c in serving if c["counted"] and c["price"] >= 100000),
        teaching_equipment_added_10k=_10k(
            sum((c["value"] for c in cards if c["counted"] and YEAR_START <= c["buy_date"] <= YEAR_END), Decimal(0))
        ),
        teaching_equipment_disposed_10k=_10k(
            sum(
                (
                    c["value"]
                    for c in cards
                    if c["counted"] and c["scrap_date"] and YEAR_START <= c["scrap_date"] <= YEAR_END
                ),
                Decimal(0),
            )
        ),
    )
    form = s.sheet(f"{ACADEMIC_YEAR}_校园网与教室情况.xlsx", header_row=3)[0]
    computers = [c for c in serving if c["cat_code"] in COMPUTER_CLASSES]
    t["it_conditions"] = dict(
        computers_total=sum(c["qty"] for c in computers),
        teaching_computers=sum(c["qty"] for c in computers if c["usage"] == "TEACH"),
        classrooms=form["教室数"],
        multimedia_rooms=form["多媒体教室数"],
        multimedia_seats=form["多媒体教室座位"],
        language_lab_seats=form["语音室座位"],
        reading_seats=form["阅览座位"],
        info_points=form["信息点数"],
        internet_mbps=form["出口带宽Mbps"],
        backbone_mbps=form["主干带宽Mbps"],
        wireless=form["无线覆盖"],
    )

    # practice bases of the year: the on-campus labs with their equipment, the off-campus internship bases
    labs = [b for b in erp["fa_lab"] if b["approve_date"] is None or b["approve_date"] <= YEAR_END]
    external = [b for b in erp["t_base_ext"] if b["setup_date"] <= YEAR_END and (b["closed_date"] or "9") >= YEAR_START]
    t["practice_base_internal"] = dict(
        rows=len(labs),
        equipment_count=sum(c["qty"] for c in serving if c["lab_no"] in {b["lab_no"] for b in labs}),
        workstations=sum(b["stations"] for b in labs),
    )
    t["practice_base_external"] = dict(rows=len(external), capacity=sum(b["capacity"] for b in external))

    # library: printed copies held on the stock date, the year's accessions and withdrawals, e-resources
    books = s.lib["lib_holding"]
    held = [b for b in books if _in_force(b["accession_date"], b["weed_date"], STOCK)]
    eres = [e for e in s.lib["lib_eres"] if e["buy_year"] <= YEAR + 1]
    t["library"] = dict(
        books_total=len(held),
        books_chinese=sum(b["lang"] == "zh" for b in held),
        books_foreign=sum(b["lang"] == "en" for b in held),
        books_added=sum(YEAR_START <= b["accession_date"] <= YEAR_END for b in books),
        books_withdrawn=sum(b["weed_date"] is not None and YEAR_START <= b["weed_date"] <= YEAR_END for b in books),
        e_books=sum(e["qty"] for e in eres if e["res_type"] == "ebook"),
        e_journals=sum(e["qty"] for e in eres if e["res_type"] == "ejournal"),
        databases=sum(e["res_type"] == "db" for e in eres),
    )

    # finance: the calendar year's income (贷 − 借 on 4xxx) and expenditure (借 − 贷 on 5xxx), in 万元
    income, spending = defaultdict(Decimal), defaultdict(Decimal)
    for line in erp["gl_voucher_line"]:
        if line["fy"] != FISCAL_YEAR:
            continue
        amount = Decimal(str(line["amount"]))
        signed = amount if line["dc"] == "贷" else -amount
        if line["acct_code"].startswith("4"):
            income[ITEMS[line["acct_code"]]] += signed
        elif line["acct_code"].startswith("5"):
            spending[ITEMS[line["acct_code"]]] -= signed
    t["finance_income"] = {"学校总收入": _10k(sum(income.values(), Decimal(0)))} | {
        k: _10k(v) for k, v in income.items()
    }
    t["finance_expenditure"] = {"学校总支出": _10k(sum(spending.values(), Decimal(0)))} | {
        k: _10k(v) for k, v in spending.items()
    }

    # internship: students enrolled on the stock date whose plan puts a placement internship in this year
    courses = {c["course_no"]: c for c in erp["t_course"]}
    interning = {
        (p["cohort"], p["major_no"])
        for p in erp["t_plan"]
        if INTERNSHIP.search(courses[p["course_no"]]["course_title"])
        and p["cohort"] + (p["semester_idx"] - 1) // 2 == YEAR
    }
    interns = Counter(
        majors[r["major_no"]]["moe_code"]
        for r in enrolled
        if (r["cohort"], r["major_no"]) in interning and r["major_no"] in majors
    )
    t["internship"] = dict(
        rows=len(interns), interns=sum(interns.values()), **{f"interns {k}": v for k, v in interns.items()}
    )

    # enrolment: the admissions office's plan for the year's intake, beside the new students in the register
    plan = s.sheet(f"{YEAR}级分专业招生计划.xlsx", header_row=2)
    new_by_code = Counter(majors[r["major_no"]]["moe_code"] for r in new if r["major_no"] in majors)
    t["enrolment"] = dict(
        rows=len({str(p["国标专业代码"]) for p in plan} | set(new_by_code)),
        planned=sum(p["计划数"] for p in plan),
        admitted=sum(p["录取数"] for p in plan),
        registered=sum(p["报到数"] for p in plan),
        registered_in_system=sum(new_by_code.values()),
        from_high_school=sum(r["source_type"] == "HS" for r in new if r["major_no"] in majors),
        from_vocational=sum(r["source_type"] == "VS" for r in new if r["major_no"] in majors),
    )

    # graduate employment: this year's graduates (graduated by 31 August next year: none yet) and last year's
    for table, year in (("graduate_employment", YEAR + 1), ("previous_graduate_employment", YEAR)):
        grads = [
            r
            for r in students
            if status.get(r["stu_no"]) == "毕业" and left[r["stu_no"]][:4] == str(year) and r["major_no"] in majors
        ]
        path = s.drops / f"{year}届毕业生去向.xlsx"
        dest = {str(d["学号"]): d["去向代码"] for d in (s.sheet(path.name, 1) if path.exists() else [])}
        codes = [dest.get(r["stu_no"]) for r in grads]
        t[table] = dict(
            rows=len({r["major_no"] for r in grads}),
            graduates=len(grads),
            employed=sum(c in EMPLOYED for c in codes),
            further_study=sum(c == 80 for c in codes),
            entrepreneurs=sum(c == 75 for c in codes),
            not_reported=sum(c is None for c in codes),
        )

    # the core indicators' inputs (each as the national table publishes it) and the indicators
    students_n = len(enrolled)
    inputs = dict(
        vocational_students=students_n,
        full_time_teachers=len(full_time),
        external_teachers=len(engaged),
        postgraduate_degree_teachers=t["full_time_teacher"]["postgraduate"],
        senior_title_teachers=t["full_time_teacher"]["senior"],
        dual_qualified_teachers=t["full_time_teacher"]["dual_qualified"],
        teaching_research_m2=t["land_building"]["teaching_research_m2"],
        admin_m2=t["land_building"]["admin_m2"],
        land_area_m2=t["land_building"]["land_area_m2"],
        student_dorm_m2=t["land_building"]["student_dorm_m2"],
        teaching_equipment_yuan=float(t["equipment_assets"]["teaching_equipment_10k"] * 10000),
        teaching_equipment_added_yuan=float(t["equipment_assets"]["teaching_equipment_added_10k"] * 10000),
        books_total=t["library"]["books_total"],
        books_added=t["library"]["books_added"],
        teaching_computers=t["it_conditions"]["teaching_computers"],
        multimedia_and_language_seats=form["多媒体教室座位"] + form["语音室座位"],
    )
    i = {k: float(v) for k, v in inputs.items()}
    teachers = i["full_time_teachers"] + i["external_teachers"] * 0.5  # 校外教师折半
    t["indicator_input"] = inputs
    t["core_indicator"] = {
        "student_teacher_ratio": round(i["vocational_students"] / teachers, 2),
        "postgraduate_degree_share": round(i["postgraduate_degree_teachers"] / i["full_time_teachers"] * 100, 2),
        "teaching_admin_area_per_student": round((i["teaching_research_m2"] + i["admin_m2"]) / students_n, 2),
        "equipment_per_student": round(i["teaching_equipment_yuan"] / students_n, 2),
        "books_per_student": round(i["books_total"] / students_n, 2),
        "senior_title_share": round(i["senior_title_teachers"] / i["full_time_teachers"] * 100, 2),
        "land_area_per_student": round(i["land_area_m2"] / students_n, 2),
        "dorm_area_per_student": round(i["student_dorm_m2"] / students_n, 2),
        "computers_per_100": round(i["teaching_computers"] / students_n * 100, 2),
        "seats_per_100": round(i["multimedia_and_language_seats"] / students_n * 100, 2),
        "new_equipment_share": round(i["teaching_equipment_added_yuan"] / i["teaching_equipment_yuan"] * 100, 2),
        "new_books_per_student": round(i["books_added"] / students_n, 2),
        "dual_qualified_share": round(i["dual_qualified_teachers"] / i["full_time_teachers"] * 100, 2),
    }
    return t


# -- what the run published ---------------------------------------------------------------------------------------


def _one(con, sql: str, *params) -> dict:
    cur = con.execute(sql, [ACADEMIC_YEAR, *params])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, f"{sql}: {len(rows)} rows"
    return {k: (float(v) if isinstance(v, Decimal) else v) for k, v in zip(names, rows[0])}


def _count(con, table: str, where: str = "") -> dict:
    return _one(con, f"select count(*) as rows from platform.{table} where academic_year = ? {where}")


def published(con, table: str) -> dict:
    """The headline figures of one national table, from platform.<table> (academic_year = 2026-2027)."""
    y = "where academic_year = ?"
    if table == "school_basic":
        return _one(
            con,
            f"""select school_code, school_name, majors_total, majors_enrolling, students_enrolled,
            new_students, new_from_high_school, new_from_vocational, new_from_other from platform.school_basic {y}""",
        )
    if table == "student":
        return _one(
            con,
            f"""select count(*) as rows, count(*) filter (where rural_hukou = '是') as rural,
            count(*) filter (where status = '休学') as on_leave from platform.student {y}""",
        )
    if table == "new_student":
        return _count(con, "student", "and is_new")
    if table in ("org_unit", "school_leader", "course"):
        return _count(con, table)
    if table == "major":
        out = _one(
            con,
            f"""select count(*) as rows, sum(students_total) as students_total,
            sum(students_year1) as students_year1, sum(students_year2) as students_year2,
            sum(students_year3) as students_year3, sum(classes) as classes from platform.major {y}""",
        )
        rows = con.execute(f"select catalog_code, students_total from platform.major {y}", [ACADEMIC_YEAR]).fetchall()
        return out | {f"students {c}": n for c, n in rows}
    if table in ("major_leader", "major_head"):
        role = {"major_leader": "专业带头人", "major_head": "专业负责人"}[table]
        return _count(con, "major_leader", f"and role = '{role}'")
    if table == "full_time_teacher":
        return _one(
            con,
            f"""select count(*) as rows, count(*) filter (where dual_qualified = '是') as dual_qualified,
            count(*) filter (where degree in ('博士', '硕士')) as postgraduate,
            count(*) filter (where title_level in ('正高级', '副高级')) as senior
            from platform.full_time_teacher {y}""",
        )
    if table == "internal_part_time_teacher":
        return _one(
            con,
            f"""select count(*) as rows, sum(teaching_hours) as teaching_hours
            from platform.internal_part_time_teacher {y}""",
        )
    if table in ("external_part_time_teacher", "external_guest_teacher"):
        kind = "校外兼职" if table == "external_part_time_teacher" else "校外兼课"
        return _count(con, "external_teacher", f"and kind = '{kind}'")
    teaching = {
        "full_time": "校内专任",
        "internal_part_time": "校内兼课",
        "external_part_time": "校外兼职",
        "external_guest": "校外兼课",
    }
    if table.endswith("_teaching"):
        return _one(
            con,
            f"""select count(*) as rows, coalesce(sum(hours), 0) as hours from platform.teaching_assignment
            {y} and kind = ?""",
            teaching[table.removesuffix("_teaching")],
        )
    if table.endswith("_workload"):
        return _one(
            con,
            f"""select count(*) as rows, coalesce(sum(teaching_hours), 0) as teaching_hours
            from platform.teaching_workload {y} and kind = ?""",
            teaching[table.removesuffix("_workload")],
        )
    if table in ("land_building", "equipment_assets", "library", "it_conditions"):
        row = _one(con, f"select * from platform.{table} {y}")
        return {
            k: v
            for k, v in row.items()
            if k not in ("academic_year", "school_code", "_raw_ids", "min_unit_price", "filled_by", "filled_on")
        }
    if table == "practice_base_internal":
        return _one(
            con,
            f"""select count(*) as rows, sum(equipment_count) as equipment_count,
            sum(workstations) as workstations from platform.practice_base {y} and location = '校内'""",
        )
    if table == "practice_base_external":
        return _one(
            con,
            f"""select count(*) as rows, sum(capacity) as capacity from platform.practice_base
            {y} and location = '校外'""",
        )
    if table in ("finance_income", "finance_expenditure"):
        direction = "收入" if table == "finance_income" else "支出"
        rows = con.execute(
            f"select item, amount_10k from platform.finance {y} and direction = ? and fiscal_year = ?",
            [ACADEMIC_YEAR, direction, FISCAL_YEAR],
        ).fetchall()
        return {item: Decimal(str(v)).quantize(Decimal("0.0001")) for item, v in rows}
    if table == "internship":
        out = _one(con, f"select count(*) as rows, coalesce(sum(interns), 0) as interns from platform.internship {y}")
        rows = con.execute(f"select catalog_code, interns from platform.internship {y}", [ACADEMIC_YEAR]).fetchall()
        return out | {f"interns {c}": n for c, n in rows}
    if table == "enrolment":
        return _one(
            con,
            f"""select count(*) as rows, sum(planned) as planned, sum(admitted) as admitted,
            sum(registered) as registered, sum(registered_in_system) as registered_in_system,
            sum(from_high_school) as from_high_school, sum(from_vocational) as from_vocational
            from platform.enrolment {y}""",
        )
    if table in ("graduate_employment", "previous_graduate_employment"):
        cohort = "应届" if table == "graduate_employment" else "上届"
        return _one(
            con,
            f"""select count(*) as rows, coalesce(sum(graduates), 0) as graduates,
            coalesce(sum(employed), 0) as employed, coalesce(sum(further_study), 0) as further_study,
            coalesce(sum(entrepreneurs), 0) as entrepreneurs, coalesce(sum(not_reported), 0) as not_reported
            from platform.graduate_employment {y} and cohort = ?""",
            cohort,
        )
    raise KeyError(table)


NATIONAL_TABLES = [
    "school_basic", "org_unit", "school_leader", "land_building", "library", "it_conditions", "equipment_assets",
    "practice_base_internal", "practice_base_external", "finance_income", "finance_expenditure",
    "full_time_teacher", "full_time_teaching", "full_time_workload", "internal_part_time_teacher",
    "internal_part_time_teaching", "internal_part_time_workload", "external_part_time_teacher",
    "external_part_time_teaching", "external_part_time_workload", "external_guest_teacher",
    "external_guest_teaching", "external_guest_workload", "major", "major_leader", "major_head", "course",
    "internship", "enrolment", "graduate_employment", "previous_graduate_employment", "student", "new_student",
]  # fmt: skip


def _close(a, b) -> bool:
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
        return abs(Decimal(str(a)) - Decimal(str(b))) <= Decimal("0.000001")
    return a == b


@pytest.mark.parametrize("table", NATIONAL_TABLES)
def test_national_table_figures_equal_the_independent_computation(table, truth, wh):
    want, got = truth[table], published(wh, table)
    differ = {k: (want.get(k), got.get(k)) for k in want.keys() | got.keys() if not _close(want.get(k), got.get(k))}
    assert not differ, f"{table}: figure: (independent, published): {differ}"


def test_the_sources_hold_a_realistic_year(truth):
    """The comparison means something: the year has students, teachers, money and history."""
    t = truth
    assert 600 <= t["school_basic"]["students_enrolled"] <= 900 and t["school_basic"]["new_students"] > 150
    assert 30 <= t["full_time_teacher"]["rows"] <= 60 and t["previous_graduate_employment"]["graduates"] > 150
    assert t["finance_income"]["学校总收入"] > 0 and t["finance_expenditure"]["学校总支出"] > 0
    assert t["land_building"]["floor_area_new_m2"] > 0 and t["library"]["books_added"] > 0


def test_every_core_indicator_equals_the_independent_computation(truth, wh):
    inputs = dict(
        wh.execute(
            "select input, value from platform.indicator_input where academic_year = ?", [ACADEMIC_YEAR]
        ).fetchall()
    )
    differ = {k: (v, inputs.get(k)) for k, v in truth["indicator_input"].items() if not _close(v, inputs.get(k))}
    assert not differ, f"indicator inputs (independent, published): {differ}"
    got = dict(
        wh.execute(
            "select indicator_id, value from platform.core_indicator where academic_year = ?", [ACADEMIC_YEAR]
        ).fetchall()
    )
    assert set(got) == set(truth["core_indicator"])
    differ = {k: (v, got[k]) for k, v in truth["core_indicator"].items() if not _close(v, got[k])}
    assert not differ, f"core indicators (independent, published): {differ}"


# -- the checks ------------------------------------------------------------------------------------------------------


def _failures(wh) -> list[tuple]:
    """Every failing row of the year's rule evaluations: (rule, severity, system, table or file, key)."""
    return wh.execute(
        """select f.rule_id, r.severity, f.source_system, f.source_table, f.source_key
        from audit.rule_failure as f
        inner join audit.rule_result as r using (run_id, academic_year, rule_id)
        where f.academic_year = ?""",
        [ACADEMIC_YEAR],
    ).fetchall()


def _names(defect: dict, system, table, key) -> bool:
    """A failure names the defect's row: same system, the same vendor table (or dropped file), and its key
    (a voucher's lines are keyed voucher|line)."""
    return (
        system == defect["system"]
        and Path(table or "").name == defect["table"]
        and key is not None
        and (key == defect["key"] or defect["key"] in key.split("|"))
    )


def test_every_injected_defect_is_flagged_on_its_row_and_no_error_rule_fails_elsewhere(college, wh):
    failures = _failures(wh)
    defects = college.manifest["defects"]
    assert len(defects) >= 8
    missed = [
        (d["kind"], d["rules"], d["key"])
        for d in defects
        if not any(rule in d["rules"] and _names(d, *rest) for rule, _, *rest in failures)
    ]
    assert not missed, f"injected defects no expected rule flagged on their row: {missed}"
    false_positives = [
        f for f in failures if f[1] == "error" and f[4] is not None and not any(_names(d, *f[2:]) for d in defects)
    ]
    assert not false_positives, f"error rules failing on rows that are not injected defects: {false_positives}"
    aggregate = {f[0] for f in failures if f[1] == "error" and f[4] is None}
    assert aggregate <= set(college.manifest["consequences"]), aggregate
    # the other error checks (keys of the national tables, load accounting) pass: only rules fail
    checks = college.summary["checks"]["failures"]
    rule_checks = [c for c in checks if c["check"].startswith("R_") or c["check"] == "model_rules"]
    assert all(c in rule_checks for c in checks if c["severity"] == "ERROR"), checks
    assert college.summary["accounting"]["rows_quarantined"] == 0


# -- onboarding by configuration alone ---------------------------------------------------------------------------


def test_no_product_file_names_the_second_college(college):
    """The college is configuration: its systems, vendor tables, school name and code appear only under tests/."""
    m = college.manifest
    words = [*m["systems"], *m["tables"], *college_gen.ENV]
    pattern = re.compile(
        r"\b(?:"
        + "|".join(map(re.escape, words))
        + r")\b|"
        + re.escape(m["school_name"])
        + "|"
        + re.escape(m["school_code"])
    )
    found = []
    for folder in PRODUCT_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            found += [(str(path.relative_to(ROOT)), hit.group(0)) for hit in pattern.finditer(text)]
    assert not found, found
    folder = college_gen.COLLEGE_DIR
    files = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    assert all(
        f == "college.yaml" or re.fullmatch(r"mappings/[a-z]+\.yaml|mappings/finance_items\.csv|views/[a-z_]+\.sql", f)
        for f in files
    ), files


def test_statedata_doctor_passes_on_the_college_folder(college, tmp_path):
    env = college.env | {"STATEDATA_HOME": str(tmp_path / "doctor-home")}
    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "doctor"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " 0 errors" in res.stdout or res.stdout.splitlines()[-1].startswith("0 errors"), res.stdout[-2000:]
