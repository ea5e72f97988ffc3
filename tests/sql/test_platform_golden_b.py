"""Golden tests, second set: small hand-made core (and platform) tables in, exactly these platform rows out.

Covers indicator_input, major_leader, org_unit, practice_base, school_basic, school_leader, student,
teaching_assignment and teaching_workload. Expected rows are written from what the national table should
hold (templates/national-2024.yaml, docs/naming.md: a person or thing counts on the stock date, 1 Sept
2026, when it started on or before it and did not end on or before it).
"""

from datetime import date

import pytest

from reporting.templates import pack_for_year, year_params
from warehouse import db
from warehouse.partition import rebuild_partition

YEAR = "2026-2027"
D = date.fromisoformat

STAFF = """staff_id varchar, name varchar, gender varchar, birth_date date, ethnicity varchar, id_card varchar,
    political_status varchar, education varchar, degree varchar, title_code varchar, post_type varchar,
    dual_qualified boolean, dept_code varchar, work_started_on date, hired_on date, left_on date,
    _duplicate_count bigint, _raw_id varchar"""
MAJOR = """major_id varchar, direction_code varchar, direction_name varchar, major_name varchar, catalog_code varchar,
    catalog_name varchar, dept_code varchar, years_of_study bigint, approved_on date, first_intake_on date,
    status varchar, leader_id varchar, head_id varchar, _raw_ids varchar[]"""
MAJOR_CODE = """major_id varchar, catalog_code varchar, major_name varchar, dept_code varchar, approved_on date,
    leader_id varchar, head_id varchar, _raw_ids varchar[]"""
STUDENT = """student_id varchar, name varchar, gender varchar, ethnicity varchar, id_card varchar, birth_date date,
    political_status varchar, origin_region varchar, enrolled_on date, grade bigint, years_of_study bigint,
    major_id varchar, direction_code varchar, class_id varchar, status varchar, left_on date,
    admission_mode varchar, origin_type varchar, rural_hukou boolean, _duplicate_count bigint, _raw_id varchar"""
CLASS = "class_id varchar, class_name varchar, major_id varchar, grade bigint, dept_code varchar, _raw_id varchar"
SCHOOL = """school_code varchar, school_name varchar, province varchar, city varchar, founded varchar,
    sponsor_name varchar, sponsor_nature varchar, sponsor_level varchar, school_category varchar, motto varchar,
    address varchar, postcode varchar, website varchar, contact_person varchar, contact_phone varchar,
    _raw_id varchar"""
PRACTICE_BASE = """location varchar, base_id varchar, base_name varchar, dept_code varchar, major_id varchar,
    partner varchar, partner_credit_code varchar, building_id varchar, floor_area_m2 decimal(18,2),
    established_on date, closed_on date, workstations bigint, projects bigint, capacity bigint, lodging varchar,
    _raw_id varchar"""
EQUIPMENT = """asset_id varchar, asset_name varchar, class_code varchar, unit_price decimal(18,2), quantity bigint,
    value_yuan decimal(37,2), use varchar, for_teaching_research boolean, state varchar, acquired_on date,
    disposed_on date, dept_code varchar, base_id varchar, _raw_id varchar"""
SCHOOL_ROW = (
    "4141099999", "示例职业技术学院", "河南省", "郑州市", "2003-06", "河南省教育厅", "地方", "省级", "公办", "明德 精技 笃行",
    "河南省郑州市示例区职教路1号", "450000", "https://www.example.edu.cn", "王建国", "0371-60000000", "rs",
)  # fmt: skip


def table(con, name, columns, rows):
    """A hand-made table with the warehouse's column types."""
    con.execute(f"create table {name} ({columns})")
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"insert into {name} values ({marks})", rows)


def staff(staff_id, name, gender, birth, education, degree, title, post="专任教师", dual=False, dept="101"):
    return (staff_id, name, gender, D(birth), "01", "x", "13", education, degree, title, post, dual, dept,
            D("2000-07-01"), D("2000-07-01"), None, 1, f"r{staff_id}")  # fmt: skip


def student(sid, grade, enrolled, major="1001", direction="", cls="c1", left=None, origin="普通高中", **kw):
    row = dict(
        student_id=sid, name=f"学生{sid}", gender="1", ethnicity="01", id_card="x", birth_date=D("2007-05-06"),
        political_status="13", origin_region="410102", enrolled_on=D(enrolled), grade=grade, years_of_study=3,
        major_id=major, direction_code=direction, class_id=cls, status="01", left_on=D(left) if left else None,
        admission_mode="普通高考", origin_type=origin, rural_hukou=False, _duplicate_count=1, _raw_id=f"r_{sid}",
    )  # fmt: skip
    row.update(kw)
    return tuple(row.values())


def units(con):
    table(con, "core.org_unit", "unit_code varchar, unit_name varchar, unit_kind varchar, parent_code varchar, "
          "founded_on date, status varchar, _duplicate_count bigint, _raw_id varchar", [
              ("101", "信息工程学院", "教学单位", None, D("2003-06-01"), "1", 1, "u101"),
              ("102", "机电工程学院", "教学单位", None, D("2003-06-01"), "1", 1, "u102"),
          ])  # fmt: skip


@pytest.fixture
def con(tmp_path):
    with db.connect(tmp_path / "golden.duckdb") as con:
        db.init(con)
        yield con


def platform_rows(con, name, order="all", year=YEAR):
    rebuild_partition(con, "platform", name, year, year_params(year, pack_for_year(year)))
    return con.execute(
        f"select * exclude (academic_year) from platform.{name} where academic_year = ? order by {order}", [year]
    ).fetchall()


def lineage(con, name, column):
    return con.execute(
        "select row_key, list(coalesce(_raw_id, via) order by coalesce(_raw_id, via)), sum(amount) "
        "from lineage.cell where table_name = ? and column_name = ? group by all order by all",
        [name, column],
    ).fetchall()


# ---- A1-6 机构设置表 ------------------------------------------------------------------------------------------


def test_org_unit_lists_the_units_existing_on_the_stock_date(con):
    table(con, "core.org_unit", "unit_code varchar, unit_name varchar, unit_kind varchar, parent_code varchar, "
          "founded_on date, status varchar, _duplicate_count bigint, _raw_id varchar", [
              ("101", "信息工程学院", "教学单位", None, D("2003-06-01"), "1", 1, "u1"),
              ("208", "质量管理办公室", "党政管理部门", None, D("2026-09-01"), "1", 1, "u2"),  # founded on the stock date
              ("109", "人工智能学院", "教学单位", None, D("2026-09-02"), "1", 1, "u3"),  # founded the day after
              ("301", "图书馆", "教辅单位", None, None, "1", 1, "u4"),  # no founding date: counts
          ])  # fmt: skip
    assert platform_rows(con, "org_unit") == [
        ("101", "信息工程学院", "教学单位", ["u1"]),
        ("208", "质量管理办公室", "党政管理部门", ["u2"]),
        ("301", "图书馆", "教辅单位", ["u4"]),
    ]
    # the year before, the office founded on 1 Sept 2026 did not exist yet; 2026-2027 keeps its rows
    assert platform_rows(con, "org_unit", year="2025-2026") == [
        ("101", "信息工程学院", "教学单位", ["u1"]),
        ("301", "图书馆", "教辅单位", ["u4"]),
    ]
    assert con.execute(
        "select academic_year, count(*) from platform.org_unit group by all order by all"
    ).fetchall() == [
        ("2025-2026", 2),
        ("2026-2027", 3),
    ]


# ---- A2 院校领导表 ---------------------------------------------------------------------------------------------


def test_school_leader_lists_the_posts_held_on_the_stock_date(con):
    table(con, "core.staff", STAFF, [
        staff("L1", "刘校长", "1", "1968-04-15", "11", "2", "011", post="行政人员"),
        staff("L2", "陈副校长", "2", "1975-11-03", "14", "3", "082", post="行政人员"),
        staff("L3", "周前任", "1", "1960-01-20", "21", "4", "012", post="行政人员"),
        staff("L4", "吴新任", "1", "1972-08-08", "21", "4", "012", post="行政人员"),
    ])  # fmt: skip
    table(con, "core.leader", "staff_id varchar, post varchar, since date, until date, duties varchar, _raw_id varchar", [
        ("L1", "校长", D("2020-07-01"), None, "主持行政全面工作", "p1"),
        ("L1", "党委副书记", D("2021-03-01"), None, "协助党建工作", "p2"),  # a second post of the same person
        ("L2", "副校长", D("2026-09-01"), None, "分管教学", "p3"),  # appointed on the stock date: counts
        ("L3", "副校长", D("2018-01-01"), D("2026-09-01"), "分管后勤", "p4"),  # left on the stock date: does not
        ("L4", "副校长", D("2026-10-01"), None, "分管科研", "p5"),  # appointed after the stock date
        ("X9", "副校长", D("2019-01-01"), None, "分管招生", "p7"),  # not in the HR staff table: kept, without HR data
    ])  # fmt: skip
    assert platform_rows(con, "school_leader", order="staff_id, post") == [
        ("L1", "刘校长", "男", "1968-04", "党委副书记", "2021-03", "协助党建工作", "博士研究生毕业", "博士", "教授", ["p2", "rL1"]),
        ("L1", "刘校长", "男", "1968-04", "校长", "2020-07", "主持行政全面工作", "博士研究生毕业", "博士", "教授", ["p1", "rL1"]),
        ("L2", "陈副校长", "女", "1975-11", "副校长", "2026-09", "分管教学", "硕士研究生毕业", "硕士", "高级工程师", ["p3", "rL2"]),
        ("X9", None, None, None, "副校长", "2019-01", "分管招生", None, None, None, ["p7"]),
    ]  # fmt: skip


# ---- A7-1-2 专业带头人表 / A7-1-3 专业负责人表 --------------------------------------------------------------------


def test_major_leader_one_row_per_role_of_each_approved_major(con):
    table(con, "core.staff", STAFF, [
        staff("T1", "王一", "1", "1980-05-12", "14", "3", "012", dual=True),
        staff("T2", "李二", "2", "1985-02-01", "21", "4", "013", dual=False),
        staff("T3", "张三", "2", "1979-09-09", "11", "2", "231", dual=True),
        staff("T4", "赵四", "1", "1990-12-30", "31", None, None, post="行政人员", dual=False),
    ])  # fmt: skip
    table(con, "core.major_code", MAJOR_CODE, [
        ("1001", "510203", "软件技术", "101", D("2010-06-01"), "T1", "T2", ["m1"]),
        ("1002", "510201", "计算机应用技术", "101", D("2012-06-01"), "T1", None, ["m2", "d1"]),  # nobody in charge
        ("1003", "520201", "护理", "105", D("2027-06-01"), "T3", "T3", ["m3"]),  # approved after the stock date
        ("1004", "530302", "大数据与会计", "103", None, "T4", "T2", ["m4"]),  # no approval date: counts
    ])  # fmt: skip
    assert platform_rows(con, "major_leader", order="role, catalog_code") == [
        ("专业带头人", "510201", "计算机应用技术", "T1", "王一", "男", "1980-05", "硕士研究生毕业", "硕士", "副教授", "是", ["m2", "d1", "rT1"]),
        ("专业带头人", "510203", "软件技术", "T1", "王一", "男", "1980-05", "硕士研究生毕业", "硕士", "副教授", "是", ["m1", "rT1"]),
        ("专业带头人", "530302", "大数据与会计", "T4", "赵四", "男", "1990-12", "大学专科毕业", None, None, "否", ["m4", "rT4"]),
        ("专业负责人", "510203", "软件技术", "T2", "李二", "女", "1985-02", "大学本科毕业", "学士", "讲师（高校）", "否", ["m1", "rT2"]),
        ("专业负责人", "530302", "大数据与会计", "T2", "李二", "女", "1985-02", "大学本科毕业", "学士", "讲师（高校）", "否", ["m4", "rT2"]),
    ]  # fmt: skip


# ---- A10-1 在校生信息表 / A12-3 新生信息表 ---------------------------------------------------------------------


def test_student_lists_those_enrolled_on_the_stock_date(con):
    units(con)
    table(con, "core.major", MAJOR, [
        ("1001", "", None, "软件技术", "510203", "软件技术", "101", 3, D("2010-06-01"), D("2010-09-01"), "1", None, None, ["m1"]),
        ("1002", "01", "Java软件开发", "计算机应用技术", "510201", "计算机应用技术", "101", 3, D("2012-06-01"), D("2012-09-01"), "1", None, None, ["m2", "d1"]),
        ("1002", "02", "移动应用开发", "计算机应用技术", "510201", "计算机应用技术", "101", 3, D("2012-06-01"), D("2012-09-01"), "1", None, None, ["m2", "d2"]),
    ])  # fmt: skip
    table(con, "core.class", CLASS, [
        ("c1", "软件技术261班", "1001", 2026, "101", "rc1"),
        ("c2", "计算机应用技术241班", "1002", 2024, "101", "rc2"),
        ("c6", "机电一体化技术251班", "9999", 2025, "102", "rc6"),
    ])  # fmt: skip
    table(con, "core.student", STUDENT, [
        student("s1", 2026, "2026-09-01", gender="2", rural_hukou=True),  # new this year
        student("s2", 2024, "2024-09-01", major="1002", direction="01", cls="c2", status="02", origin="中职"),  # 休学: still enrolled
        student("s3", 2023, "2023-09-01", left="2026-06-30", status="04"),  # graduated before the stock date
        student("s4", 2025, "2025-09-01", left="2026-09-01", status="03"),  # withdrew on the stock date
        student("s5", 2026, "2026-09-02"),  # registered after the stock date
        # a major missing from the major table: the department comes from the class
        student("s6", 2025, "2025-09-01", major="9999", cls="c6", ethnicity="03", origin=None, admission_mode="单独考试招生"),
    ])  # fmt: skip
    rows = platform_rows(con, "student", order="student_id")
    assert rows == [
        ("s1", "学生s1", "女", "汉族", "2007-05-06", "410102", "普通高考", "普通高中", "是", 2026, True, 3, "2026-09",
         "信息工程学院", "c1", "软件技术261班", "510203", "软件技术", None, None, "在读", ["r_s1"]),
        ("s2", "学生s2", "男", "汉族", "2007-05-06", "410102", "普通高考", "中职", "否", 2024, False, 3, "2024-09",
         "信息工程学院", "c2", "计算机应用技术241班", "510201", "计算机应用技术", "01", "Java软件开发", "休学", ["r_s2"]),
        ("s6", "学生s6", "男", "回族", "2007-05-06", "410102", "单独考试招生", None, "否", 2025, False, 3, "2025-09",
         "机电工程学院", "c6", "机电一体化技术251班", None, None, None, None, "在读", ["r_s6"]),
    ]  # fmt: skip


# ---- A1 院校基本信息表 ------------------------------------------------------------------------------------------


def school_basic_inputs(con, majors):
    table(con, "core.school", SCHOOL, [SCHOOL_ROW])
    table(con, "core.major", MAJOR, majors)
    table(con, "core.student", STUDENT, [
        student("a", 2026, "2026-09-01", major="1001", origin="普通高中"),
        student("b", 2026, "2026-09-01", major="1002", direction="01", origin="中职"),
        student("c", 2026, "2026-09-01", major="1002", direction="02", origin=None),
        student("d", 2025, "2025-09-01", major="1001", origin="普通高中"),  # second year: enrolled, not new
        student("e", 2026, "2026-09-01", major="1001", left="2026-09-01"),  # withdrew on the stock date
        student("f", 2027, "2027-09-01", major="1001"),  # next year's intake
        student("g", 2023, "2023-09-01", major="1001", left="2026-06-30"),  # graduated
        student("h", 2026, "2026-09-01", major="8888", origin="退役军人"),  # a major missing from the major table
    ])  # fmt: skip


MAJORS = [
    ("1001", "", None, "软件技术", "510203", "软件技术", "101", 3, D("2010-06-01"), D("2010-09-01"), "1", None, None, ["m1"]),
    ("1002", "01", "Java软件开发", "计算机应用技术", "510201", "计算机应用技术", "101", 3, D("2012-06-01"), D("2012-09-01"), "1", None, None, ["m2", "d1"]),
    ("1002", "02", "移动应用开发", "计算机应用技术", "510201", "计算机应用技术", "101", 3, D("2012-06-01"), D("2012-09-01"), "1", None, None, ["m2", "d2"]),
    ("1005", "", None, "机电一体化技术", "460301", "机电一体化技术", "102", 3, D("2008-06-01"), D("2008-09-01"), "1", None, None, ["m5"]),
]  # fmt: skip


def test_school_basic_counts_students_and_majors_on_the_stock_date(con):
    school_basic_inputs(con, MAJORS)
    rows = platform_rows(con, "school_basic")
    assert rows == [
        SCHOOL_ROW[:-1]
        + (
            3,  # majors_total: 1001, 1002 (two directions, one major), 1005
            3,  # majors_enrolling: 1001, 1002 and 8888 have first-year students (1005 has none)
            5,  # students_enrolled: a b c d h
            4,  # new_students: a b c h
            1,  # new_from_high_school: a
            1,  # new_from_vocational: b
            2,  # new_from_other: c (no origin) and h
            ["rs"],
        )
    ]
    assert lineage(con, "school_basic", "new_from_other") == [("4141099999", ["r_c", "r_h"], 2.0)]
    assert lineage(con, "school_basic", "majors_enrolling") == [("4141099999", ["m1", "m2", "r_h"], 3.0)]


def test_school_basic_majors_total_leaves_out_a_major_approved_after_the_stock_date(con):
    nursing = ("1003", "", None, "护理", "520201", "护理", "105", 3, D("2027-06-01"), None, "1", None, None, ["m3"])
    school_basic_inputs(con, [*MAJORS, nursing])
    (row,) = platform_rows(con, "school_basic")
    assert row[15] == 3  # majors_total: 1001, 1002, 1005; 护理 is not a major yet in 2026-2027


# ---- A4-1 校内实践基地表 / A4-2 校外实习实训基地表 ---------------------------------------------------------------


def practice_base_inputs(con, extra_majors=(), extra_equipment=()):
    units(con)
    table(con, "core.major_code", MAJOR_CODE, [
        ("1001", "510203", "软件技术", "101", D("2010-06-01"), None, None, ["m1"]),
        ("1002", "510201", "计算机应用技术", "101", D("2012-06-01"), None, None, ["m2", "d1"]),
        ("1006", "460301", "机电一体化技术", "102", D("2008-06-01"), None, None, ["m6"]),
        *extra_majors,
    ])  # fmt: skip
    table(con, "core.practice_base", PRACTICE_BASE, [
        ("校内", "JD1", "软件技术实训中心", "101", None, None, None, "FW1", 900.50, D("2014-06-01"), None, 120, 30, None, None, "b1"),
        ("校外", "XW1", "华远软件实习基地", None, "1001", "华远软件有限公司", "91410000MA0000001X", None, None, D("2013-05-01"), None, None, None, 40, "是", "b2"),
        ("校外", "XW2", "旧合作实习基地", None, "1002", "旧合作有限公司", "91410000MA0000002X", None, None, D("2015-05-01"), D("2026-06-30"), None, None, 30, "否", "b3"),  # closed before the year
        ("校外", "XW3", "恒通网络实习基地", None, "1002", "恒通网络有限公司", "91410000MA0000003X", None, None, D("2016-05-01"), D("2027-01-15"), None, None, 25, "否", "b4"),  # closes during the year
        ("校外", "XW4", "未来科技实习基地", None, "1001", "未来科技有限公司", "91410000MA0000004X", None, None, D("2027-09-01"), None, None, None, 50, "是", "b5"),  # after the year
    ])  # fmt: skip

    def card(asset_id, value, acquired, disposed=None, base="JD1"):
        return (asset_id, "设备", "03010101", value, 1, value, "教学", True, "在用", D(acquired),
                D(disposed) if disposed else None, "101", base, f"e_{asset_id}")  # fmt: skip

    table(con, "core.equipment", EQUIPMENT, [
        card("E1", 50000.00, "2015-01-01"),  # in service
        card("E3", 8000.00, "2020-05-05", "2026-07-01"),  # disposed before the stock date
        card("E4", 20000.00, "2026-09-01"),  # acquired on the stock date: in service, and added this year
        card("E5", 3000.00, "2018-01-01", "2026-12-01"),  # disposed after the stock date: still in service on it
        card("E6", 99999.00, "2016-01-01", base=None),  # booked to no base
        *[card(*e) for e in extra_equipment],
    ])  # fmt: skip


JD1 = ("校内", "JD1", "软件技术实训中心", "信息工程学院", 2, "计算机应用技术、软件技术", "2014-06", 900.50)
JD1_FIGURES = (120, 30, None, None, None, None)


def test_practice_base_bases_with_their_equipment_and_majors(con):
    practice_base_inputs(con)
    rows = platform_rows(con, "practice_base", order="location, base_id")
    assert [r[:8] for r in rows] == [
        JD1,
        ("校外", "XW1", "华远软件实习基地", "信息工程学院", 1, "软件技术", "2013-05", None),
        ("校外", "XW3", "恒通网络实习基地", "信息工程学院", 1, "计算机应用技术", "2016-05", None),
    ]
    # 设备总值: E1 + E4 + E5 = 73,000 元; 当年新增: E4; 设备总数: 3
    assert [(float(r[8]), float(r[9]), r[10]) for r in rows] == [(7.3, 2.0, 3), (0.0, 0.0, 0), (0.0, 0.0, 0)]
    assert [r[11:] for r in rows] == [
        JD1_FIGURES + (["b1", "e_E1", "e_E3", "e_E4", "e_E5"],),
        (None, None, "华远软件有限公司", "91410000MA0000001X", 40, "是", ["b2"]),
        (None, None, "恒通网络有限公司", "91410000MA0000003X", 25, "否", ["b4"]),
    ]  # fmt: skip
    assert lineage(con, "practice_base", "equipment_count") == [("校内|JD1", ["e_E1", "e_E4", "e_E5"], 3.0)]
    assert lineage(con, "practice_base", "majors_served") == [
        ("校内|JD1", ["m1", "m2"], 2.0),
        ("校外|XW1", ["m1"], 1.0),
        ("校外|XW3", ["m2"], 1.0),
    ]


def test_practice_base_equipment_total_is_the_equipment_in_service_on_the_stock_date(con):
    practice_base_inputs(con, extra_equipment=[("E2", 12345.67, "2026-10-10")])  # bought during the year
    rows = platform_rows(con, "practice_base", order="location, base_id")
    # total and count as on 1 Sept 2026 (E1 E4 E5); the year's additions: E4 and E2
    assert (float(rows[0][8]), float(rows[0][9]), rows[0][10]) == (7.3, 3.2346, 3)


def test_practice_base_majors_served_leaves_out_a_major_approved_after_the_stock_date(con):
    ai = ("1007", "510209", "人工智能技术应用", "101", D("2027-06-01"), None, None, ["m7"])
    practice_base_inputs(con, extra_majors=[ai])
    rows = platform_rows(con, "practice_base", order="location, base_id")
    assert rows[0][:8] == JD1


# ---- A6-x-2 授课情况表 -----------------------------------------------------------------------------------------


def teaching_inputs(con):
    table(con, "core.staff", STAFF, [
        staff("T1", "王一", "1", "1980-05-12", "14", "3", "012", post="专任教师"),
        staff("T2", "李二", "2", "1985-02-01", "21", "4", "013", post="行政人员"),  # staff who also teaches
    ])  # fmt: skip
    table(con, "core.external_teacher", """teacher_id varchar, name varchar, gender varchar, birth_date date,
          id_card varchar, kind varchar, employer varchar, job_title varchar, title_code varchar, education varchar,
          dept_code varchar, engaged_from date, engaged_to date, _raw_id varchar""", [
        ("W1", "孙工", "1", D("1978-03-03"), "x", "校外兼职", "华远软件有限公司", "工程师", "083", "21", "101", D("2025-09-01"), D("2027-08-31"), "rW1"),
        ("W2", "周老师", "2", D("1982-07-07"), "x", "校外兼课", "郑州职业技术学院", "讲师", "013", "14", "101", D("2026-09-01"), D("2027-08-31"), "rW2"),
    ])  # fmt: skip
    table(con, "core.course", """course_id varchar, course_name varchar, course_type varchar, course_nature varchar,
          total_hours bigint, practice_hours bigint, credits decimal(18,2), dept_code varchar, is_core boolean,
          _duplicate_count bigint, _raw_id varchar""", [
        ("C1", "Python程序设计", "B", "专业核心课", 64, 32, 4.00, "101", True, 1, "rC1"),
        ("C2", "高等数学", "A", "公共基础课", 48, 0, 3.00, "101", False, 1, "rC2"),
    ])  # fmt: skip
    table(con, "core.class", CLASS, [
        ("K1", "软件技术261班", "1001", 2026, "101", "rK1"),
        ("K2", "计算机应用技术251班", "1002", 2025, "101", "rK2"),
    ])  # fmt: skip
    table(con, "core.major_code", MAJOR_CODE, [
        ("1001", "510203", "软件技术", "101", D("2010-06-01"), None, None, ["m1"]),
        ("1002", "510201", "计算机应用技术", "101", D("2012-06-01"), None, None, ["m2", "d1"]),
    ])  # fmt: skip
    table(con, "core.teaching_task", "task_id varchar, term varchar, academic_year varchar, course_id varchar, "
          "class_id varchar, teacher_id varchar, hours bigint, _raw_id varchar", [
              ("t1", "2026-2027-1", "2026-2027", "C1", "K1", "T1", 64, "k1"),
              ("t2", "2026-2027-2", "2026-2027", "C2", "K2", "T2", 48, "k2"),
              ("t3", "2026-2027-1", "2026-2027", "C1", "K2", "W1", 32, "k3"),
              ("t4", "2026-2027-2", "2026-2027", "C2", "K1", "W2", 16, "k4"),
              ("t5", "2025-2026-2", "2025-2026", "C1", "K1", "T1", 64, "k5"),  # last year's task
              ("t6", "2026-2027-1", "2026-2027", "C9", "K9", "X1", None, "k6"),  # nothing it names is registered
          ])  # fmt: skip


def test_teaching_assignment_lists_the_years_tasks_by_kind_of_teacher(con):
    teaching_inputs(con)
    assert platform_rows(con, "teaching_assignment", order="kind, teacher_id, term") == [
        ("未登记教师", "X1", None, "2026-2027-1", None, None, "C9", None, None, "K9", None, None, ["k6"]),
        ("校内专任", "T1", "王一", "2026-2027-1", "510203", "软件技术", "C1", "Python程序设计", "B", "K1", "软件技术261班", 64, ["k1", "rT1", "rC1", "rK1"]),
        ("校内兼课", "T2", "李二", "2026-2027-2", "510201", "计算机应用技术", "C2", "高等数学", "A", "K2", "计算机应用技术251班", 48, ["k2", "rT2", "rC2", "rK2"]),
        ("校外兼职", "W1", "孙工", "2026-2027-1", "510201", "计算机应用技术", "C1", "Python程序设计", "B", "K2", "计算机应用技术251班", 32, ["k3", "rW1", "rC1", "rK2"]),
        ("校外兼课", "W2", "周老师", "2026-2027-2", "510203", "软件技术", "C2", "高等数学", "A", "K1", "软件技术261班", 16, ["k4", "rW2", "rC2", "rK1"]),
    ]  # fmt: skip
    # last year's partition holds last year's task only
    assert [r[:4] for r in platform_rows(con, "teaching_assignment", year="2025-2026")] == [
        ("校内专任", "T1", "王一", "2025-2026-2"),
    ]


# ---- A6-x-3 教学工作量表 ---------------------------------------------------------------------------------------


def test_teaching_workload_sums_each_teachers_tasks_of_the_year(con):
    con.execute("""create table platform.teaching_assignment as select * from (values
        ('2026-2027', '校内专任', 'T1', '王一', '2026-2027-1', 'C1', 'K1', 64, ['a1', 'rT1']),
        ('2026-2027', '校内专任', 'T1', '王一', '2026-2027-1', 'C1', 'K2', 64, ['a2', 'rT1']),  -- same course, another class
        ('2026-2027', '校内专任', 'T1', '王一', '2026-2027-2', 'C2', 'K1', 32, ['a3', 'rT1']),  -- another course, same class
        ('2026-2027', '校内兼课', 'T2', '李二', '2026-2027-1', 'C3', 'K3', 48, ['a4', 'rT2']),
        ('2026-2027', '校内兼课', 'T2', '李二', '2026-2027-2', 'C3', 'K3', null, ['a5', 'rT2']),  -- no hours recorded
        ('2026-2027', '校外兼职', 'W1', '孙工', '2026-2027-1', 'C1', null, 16, ['a6', 'rW1']),  -- no class
        ('2025-2026', '校内专任', 'T1', '王一', '2025-2026-2', 'C9', 'K9', 100, ['a0', 'rT1']))  -- last year
        t(academic_year, kind, teacher_id, name, term, course_id, class_id, hours, _raw_ids)""")
    rows = platform_rows(con, "teaching_workload", order="kind, teacher_id")
    # kind, teacher, name, 学年授课总学时, 授课门数, 授课班级数, 教学任务数
    assert [r[:7] for r in rows] == [
        ("校内专任", "T1", "王一", 160, 2, 2, 3),
        ("校内兼课", "T2", "李二", 48, 1, 1, 2),
        ("校外兼职", "W1", "孙工", 16, 1, 0, 1),
    ]
    assert [sorted(r[7]) for r in rows] == [
        ["a1", "a2", "a3", "rT1", "rT1", "rT1"],
        ["a4", "a5", "rT2", "rT2"],
        ["a6", "rW1"],
    ]
    assert lineage(con, "teaching_workload", "teaching_hours") == [
        ("校内专任|T1", ["a1", "a2", "a3"], 160.0),
        ("校内兼课|T2", ["a4"], 48.0),
        ("校外兼职|W1", ["a6"], 16.0),
    ]
    assert lineage(con, "teaching_workload", "courses") == [
        ("校内专任|T1", ["a1", "a3"], 2.0),
        ("校内兼课|T2", ["a4"], 1.0),
        ("校外兼职|W1", ["a6"], 1.0),
    ]


# ---- core indicators' inputs (核心数据复核清单) -----------------------------------------------------------------


def test_indicator_input_reads_each_figure_from_its_national_table(con):
    table(con, "core.school", SCHOOL, [SCHOOL_ROW])
    table(con, "core.staff", STAFF, [
        staff("A", "甲", "1", "1970-01-01", "11", "2", "011", dual=True),  # 博士, 教授 (正高级), 双师
        staff("B", "乙", "2", "1980-01-01", "14", "3", "013", dual=False),  # 硕士, 讲师 (中级)
        staff("C", "丙", "1", "1985-01-01", "21", "4", "082", dual=True),  # 学士, 高级工程师 (副高级), 双师
        staff("D", "丁", "2", "1990-01-01", "31", None, None, dual=None),  # no degree, no title
        staff("F", "戊", "1", "1965-01-01", "21", "1", "022", dual=True),  # 名誉博士 (not a research degree), 高级讲师（中专）(副高级)
        staff("E", "己", "1", "1960-01-01", "11", "2", "011", dual=True),  # a teacher of last year only
    ])  # fmt: skip
    con.execute("""create table platform.full_time_teacher as select * from (values
        ('2026-2027', 'A', ['rA']), ('2026-2027', 'B', ['rB']), ('2026-2027', 'C', ['rC']),
        ('2026-2027', 'D', ['rD']), ('2026-2027', 'F', ['rF']), ('2025-2026', 'E', ['rE']), ('2025-2026', 'A', ['rA']))
        t(academic_year, staff_id, _raw_ids)""")
    con.execute("""create table platform.external_teacher as select * from (values
        ('2026-2027', '校外兼职', 'W1', ['rW1']), ('2026-2027', '校外兼课', 'W2', ['rW2']),
        ('2026-2027', '校外兼职', 'W3', ['rW3']), ('2025-2026', '校外兼职', 'W9', ['rW9']))
        t(academic_year, kind, teacher_id, _raw_ids)""")
    con.execute("""create table platform.school_basic as select * from (values
        ('2026-2027', '4141099999', 1200::bigint), ('2025-2026', '4141099999', 999::bigint))
        t(academic_year, school_code, students_enrolled)""")
    con.execute("""create table platform.land_building as select * from (values
        ('2026-2027', '4141099999', 300000.0::double, 25000.50::decimal(38,2), 4000.25::decimal(38,2), 9000.00::decimal(38,2)),
        ('2025-2026', '4141099999', 1.0::double, 1::decimal(38,2), 1::decimal(38,2), 1::decimal(38,2)))
        t(academic_year, school_code, land_area_m2, teaching_research_m2, admin_m2, student_dorm_m2)""")
    con.execute("""create table platform.equipment_assets as select * from (values
        ('2026-2027', '4141099999', 1234.5::double, 150.25::double), ('2025-2026', '4141099999', 1.0::double, 1.0::double))
        t(academic_year, school_code, teaching_equipment_10k, teaching_equipment_added_10k)""")
    con.execute("""create table platform.library as select * from (values
        ('2026-2027', '4141099999', 96000::bigint, 3600::bigint), ('2025-2026', '4141099999', 1::bigint, 1::bigint))
        t(academic_year, school_code, books_total, books_added)""")
    con.execute("""create table platform.it_conditions as select * from (values
        ('2026-2027', '4141099999', 150::bigint, 2000::bigint, 240::bigint), ('2025-2026', '4141099999', 1::bigint, 1::bigint, 1::bigint))
        t(academic_year, school_code, teaching_computers, multimedia_seats, language_lab_seats)""")
    rows = platform_rows(con, "indicator_input", order="input")
    assert {input_: value for input_, value, _ in rows} == {
        "vocational_students": 1200.0,
        "full_time_teachers": 5.0,  # A B C D F
        "external_teachers": 3.0,  # both kinds
        "postgraduate_degree_teachers": 2.0,  # A (博士) and B (硕士)
        "senior_title_teachers": 3.0,  # A (正高级), C and F (副高级)
        "dual_qualified_teachers": 3.0,  # A C F
        "teaching_research_m2": 25000.5,
        "admin_m2": 4000.25,
        "land_area_m2": 300000.0,
        "student_dorm_m2": 9000.0,
        "teaching_equipment_yuan": 12345000.0,  # 万元 -> 元
        "teaching_equipment_added_yuan": 1502500.0,
        "books_total": 96000.0,
        "books_added": 3600.0,
        "teaching_computers": 150.0,
        "multimedia_and_language_seats": 2240.0,  # multimedia and language-lab seats together
    }
    sources = {input_: source for input_, _, source in rows}
    assert sources["senior_title_teachers"] == "platform.full_time_teacher.title_level"
    assert sources["teaching_equipment_yuan"] == "platform.equipment_assets.teaching_equipment_10k"
    cells = con.execute(
        "select row_key, list(coalesce(_raw_id, via) order by coalesce(_raw_id, via)), list(distinct amount) "
        "from lineage.cell where table_name = 'indicator_input' and row_key in "
        "('senior_title_teachers', 'teaching_equipment_yuan', 'multimedia_and_language_seats') group by all order by all"
    ).fetchall()
    assert cells == [
        ("multimedia_and_language_seats", ["it_conditions|4141099999|language_lab_seats", "it_conditions|4141099999|multimedia_seats"], [1.0]),
        ("senior_title_teachers", ["rA", "rC", "rF"], [1.0]),
        ("teaching_equipment_yuan", ["equipment_assets|4141099999|teaching_equipment_10k"], [10000.0]),
    ]  # fmt: skip
