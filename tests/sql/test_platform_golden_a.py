"""Golden tests (second set): small hand-made core tables in, exactly these platform rows out.

Academic year 2026-2027: stock date 2026-09-01, the year runs 2026-09-01 – 2027-08-31. A row that ends
on the stock date (left, disposed, withdrawn on 1 September) is no longer there on that day.
"""

from decimal import Decimal

import pytest

from reporting.templates import pack_for_year, year_params
from warehouse import db
from warehouse.partition import rebuild_partition

YEAR = "2026-2027"


@pytest.fixture
def con(tmp_path):
    with db.connect(tmp_path / "golden.duckdb") as con:
        db.init(con)
        con.execute("""create table core.org_unit as select * from (values
            ('101', '信息工程学院', '教学单位', null, date '2003-06-01', '1', 1, 'u1'),
            ('201', '党政办公室', '党政管理部门', null, date '2003-06-01', '1', 1, 'u2'))
            t(unit_code, unit_name, unit_kind, parent_code, founded_on, status, _duplicate_count, _raw_id)""")
        con.execute("create table core.school as select '4141099999' as school_code, '示例职业技术学院' as school_name, "
                    "'rs' as _raw_id")  # fmt: skip
        yield con


def build(con, name):
    rebuild_partition(con, "platform", name, YEAR, year_params(YEAR, pack_for_year(YEAR)))


def platform_rows(con, name, exclude=("academic_year", "_raw_ids")):
    """The year's rows as tuples, without the given columns, in sorted order."""
    build(con, name)
    cols = ", ".join(exclude)
    return con.execute(
        f"select * exclude ({cols}) from platform.{name} where academic_year = ? order by all", [YEAR]
    ).fetchall()


def single_row(con, name):
    """The year's one row of a school-level table, as a dict (academic_year and _raw_ids left out)."""
    build(con, name)
    rows = con.execute(f"select * exclude (academic_year) from platform.{name} where academic_year = ?", [YEAR])
    names = [d[0] for d in rows.description]
    found = rows.fetchall()
    assert len(found) == 1
    row = dict(zip(names, found[0]))
    row["_raw_ids"] = sorted(row["_raw_ids"])
    return row


def raw_ids(con, name):
    """The sorted _raw_ids of each row, in the order of platform_rows (_raw_ids is the last column)."""
    rows = con.execute(
        f"select * exclude (academic_year) from platform.{name} where academic_year = ? order by all", [YEAR]
    )
    return [sorted(r[-1]) for r in rows.fetchall()]


def lineage(con, name, row_key=None):
    sql = (
        "select row_key, column_name, list(_raw_id order by _raw_id), sum(amount) from lineage.cell "
        "where table_name = ? and academic_year = ? and _raw_id is not null"
    )
    params = [name, YEAR]
    if row_key is not None:
        sql += " and row_key = ?"
        params.append(row_key)
    return con.execute(sql + " group by all order by all", params).fetchall()


def create_students(con, rows):
    """core.student with the columns the platform files read; rows: (id, major, grade, enrolled, left, status, origin)."""
    con.execute("""create table core.student (student_id varchar, major_id varchar, grade bigint, enrolled_on date,
                   left_on date, status varchar, origin_type varchar, _raw_id varchar)""")
    con.executemany(
        "insert into core.student values (?, ?, ?, ?::date, ?::date, ?, ?, 'r_' || ?)", [(*r, r[0]) for r in rows]
    )


def create_major_code(con):
    con.execute("""create table core.major_code as select * from (values
        ('M1', '510203', '软件技术', '101', date '2010-06-01', null, null, ['m1']),
        ('M2', '520201', '护理', '101', date '2012-06-01', null, null, ['m2']),
        ('M3', '510201', '计算机应用技术', '101', date '2012-06-01', null, null, ['m3']))
        t(major_id, catalog_code, major_name, dept_code, approved_on, leader_id, head_id, _raw_ids)""")


EQUIPMENT_COLUMNS = """t(asset_id, asset_name, class_code, unit_price, quantity, value_yuan, use, for_teaching_research,
    state, acquired_on, disposed_on, dept_code, base_id, _raw_id)"""


def create_equipment(con, rows):
    """core.equipment; rows: (id, class, unit price, quantity, use, acquired, disposed). Value = price × quantity."""
    con.execute(f"create table core.equipment as select * from (values ('x', 'x', 'x', 1.00, 1, 1.00, 'x', true, "
                f"'x', date '2000-01-01', date '2000-01-01', 'x', 'x', 'x')) {EQUIPMENT_COLUMNS} limit 0")  # fmt: skip
    con.execute("""alter table core.equipment alter unit_price type decimal(18, 2);
                   alter table core.equipment alter value_yuan type decimal(37, 2)""")
    con.executemany(
        """insert into core.equipment values (?, '设备', ?, ?, ?, ?::decimal(18, 2) * ?, ?, ? in ('教学', '科研'),
           '在用', ?::date, ?::date, '101', null, 'r_' || ?)""",
        [(a, c, p, q, p, q, u, u, acq, disp, a) for a, c, p, q, u, acq, disp in rows],
    )


# ---------------------------------------------------------------------------------------------- course


def test_course_lists_the_plan_courses_of_the_three_cohorts_in_school(con):
    con.execute("""create table core.major as select * from (values
        ('M1', '', null, '软件技术', '510203', '软件技术', '101', 3, date '2010-06-01', date '2010-09-01', '1', null, null, ['m1']),
        ('M2', '01', 'Java开发', '计算机应用技术', '510201', '计算机应用技术', '101', 3, date '2012-06-01', date '2012-09-01', '1', null, null, ['m2', 'd1']),
        ('M2', '02', '移动开发', '计算机应用技术', '510201', '计算机应用技术', '101', 3, date '2012-06-01', date '2012-09-01', '1', null, null, ['m2', 'd2']))
        t(major_id, direction_code, direction_name, major_name, catalog_code, catalog_name, dept_code, years_of_study,
          approved_on, first_intake_on, status, leader_id, head_id, _raw_ids)""")
    con.execute("""create table core.course as select * from (values
        ('C1', 'Python程序设计', 'B', '专业核心课', 64, 32, 4.00, '101', true, 1, 'rc1'),
        ('C2', '大学英语', 'A', '公共基础课', 128, 0, 8.00, '101', false, 1, 'rc2'),
        ('C3', '岗位实习', 'C', '专业实践课', 480, 480, 24.00, '101', false, 1, 'rc3'),
        ('C4', '旧版课程', 'A', '专业基础课', 32, 0, 2.00, '101', false, 1, 'rc4'),
        ('C5', '移动应用开发', 'B', '专业基础课', 96, 48, 6.00, '101', null, 1, 'rc5'))
        t(course_id, course_name, course_type, course_nature, total_hours, practice_hours, credits, dept_code, is_core,
          _duplicate_count, _raw_id)""")
    con.execute("""create table core.teaching_plan as select * from (values
        (2026, 'M1', 'C1', 2, '考试', 'p1'),   -- the same course in two cohorts: one row, first term 2
        (2025, 'M1', 'C1', 3, '考试', 'p2'),
        (2024, 'M1', 'C3', 6, '考查', 'p3'),   -- third-year cohort: still in school
        (2023, 'M1', 'C4', 1, '考试', 'p4'),   -- graduated cohort: not listed
        (2027, 'M1', 'C2', 1, '考试', 'p5'),   -- next year's cohort: not listed
        (2026, 'M2', 'C2', 1, '考试', 'p6'),   -- a major with two directions: one row per course
        (2025, 'M2', 'C5', 4, '考查', 'p7'))
        t(grade, major_id, course_id, term_no, assessment, _raw_id)""")
    assert platform_rows(con, "course") == [
        (
            "信息工程学院",
            "510201",
            "计算机应用技术",
            "C2",
            "大学英语",
            "A",
            "公共基础课",
            128,
            0,
            Decimal("8.00"),
            "否",
            1,
        ),
        (
            "信息工程学院",
            "510201",
            "计算机应用技术",
            "C5",
            "移动应用开发",
            "B",
            "专业基础课",
            96,
            48,
            Decimal("6.00"),
            "否",
            4,
        ),
        (
            "信息工程学院",
            "510203",
            "软件技术",
            "C1",
            "Python程序设计",
            "B",
            "专业核心课",
            64,
            32,
            Decimal("4.00"),
            "是",
            2,
        ),
        (
            "信息工程学院",
            "510203",
            "软件技术",
            "C3",
            "岗位实习",
            "C",
            "专业实践课",
            480,
            480,
            Decimal("24.00"),
            "否",
            6,
        ),
    ]
    assert raw_ids(con, "course") == [["p6", "rc2"], ["p7", "rc5"], ["p1", "p2", "rc1"], ["p3", "rc3"]]


# ---------------------------------------------------------------------------------------------- enrolment


def test_enrolment_puts_the_plan_next_to_the_new_students_by_origin(con):
    create_major_code(con)
    con.execute("""create table core.enrolment_plan as select * from (values
        (2026, '510203', '软件技术', 100, 95, 90, 80, 'p1'),
        (2026, '520201', '护理', 50, 48, 45, 40, 'p2'),        -- planned, but nobody in the academic system yet
        (2025, '510203', '软件技术', 99, 99, 99, 99, 'p0'))     -- last year's intake
        t(intake_year, catalog_code, major_name, planned, admitted, registered, in_province, _raw_id)""")
    create_students(
        con,
        [
            ("n1", "M1", 2026, "2026-09-01", None, "01", "普通高中"),
            ("n2", "M1", 2026, "2026-09-01", None, "01", "中职"),
            ("n3", "M1", 2026, "2026-09-01", None, "01", None),  # unknown origin: 其他
            ("n4", "M3", 2026, "2026-09-01", None, "01", "其他"),  # no plan row for 510201
            ("n5", "M1", 2025, "2025-09-01", None, "01", "普通高中"),  # last year's intake
        ],
    )
    assert platform_rows(con, "enrolment") == [
        # catalog, name, planned, admitted, registered, in province, in system, high school, vocational, other
        ("510201", "计算机应用技术", None, None, None, None, 1, 0, 0, 1),
        ("510203", "软件技术", 100, 95, 90, 80, 3, 1, 1, 1),
        ("520201", "护理", 50, 48, 45, 40, 0, 0, 0, 0),
    ]
    assert raw_ids(con, "enrolment") == [["r_n4"], ["p1", "r_n1", "r_n2", "r_n3"], ["p2"]]
    assert lineage(con, "enrolment", "510203") == [
        ("510203", "from_high_school", ["r_n1"], 1.0),
        ("510203", "from_other", ["r_n3"], 1.0),
        ("510203", "from_vocational", ["r_n2"], 1.0),
        ("510203", "registered_in_system", ["r_n1", "r_n2", "r_n3"], 3.0),
    ]


# ---------------------------------------------------------------------------------------------- equipment_assets


def test_equipment_assets_in_service_on_the_stock_date_and_the_years_flows(con):
    create_equipment(
        con,
        [  # id, class, unit price, quantity, use, acquired, disposed
            ("E1", "03030101", 5000, 1, "教学", "2020-01-01", None),  # counted
            ("E2", "03030101", 200000, 1, "科研", "2026-09-01", None),  # counted, large, added on the stock date
            ("E3", "03030101", 800, 1, "教学", "2021-01-01", None),  # below 1000 元: only in the total
            ("E4", "03030101", 3000, 1, "行政", "2019-01-01", None),  # not teaching or research: only in the total
            ("E5", "03030101", 1000, 1, "教学", "2015-01-01", "2026-09-01"),  # disposed on the stock date
            ("E6", "03030101", 100000, 1, "教学", "2027-03-01", None),  # bought during the year: added only
            ("E7", "03030101", 2000, 1, "教学", "2010-01-01", "2026-05-01"),  # disposed last year: nowhere
            ("E8", "03030101", 5000, 1, None, "2018-01-01", None),  # use unknown: only in the total
        ],
    )
    row = single_row(con, "equipment_assets")
    assert row == {
        "school_code": "4141099999",
        "equipment_total_10k": pytest.approx(21.38),  # 5000 + 200000 + 800 + 3000 + 5000
        "teaching_equipment_10k": pytest.approx(20.5),  # E1 + E2
        "teaching_equipment_count": 2,
        "large_equipment_count": 1,
        "teaching_equipment_added_10k": pytest.approx(30.0),  # E2 + E6
        "teaching_equipment_disposed_10k": pytest.approx(0.1),  # E5
        "min_unit_price": 1000,
        "_raw_ids": ["r_E1", "r_E2"],
    }
    assert lineage(con, "equipment_assets") == [
        ("4141099999", "equipment_total_10k", ["r_E1", "r_E2", "r_E3", "r_E4", "r_E8"], pytest.approx(21.38)),
        ("4141099999", "large_equipment_count", ["r_E2"], 1.0),
        ("4141099999", "teaching_equipment_10k", ["r_E1", "r_E2"], pytest.approx(20.5)),
        ("4141099999", "teaching_equipment_added_10k", ["r_E2", "r_E6"], pytest.approx(30.0)),
        ("4141099999", "teaching_equipment_count", ["r_E1", "r_E2"], 2.0),
        ("4141099999", "teaching_equipment_disposed_10k", ["r_E5"], pytest.approx(0.1)),
    ]


def test_equipment_assets_counts_the_units_of_a_card(con):
    create_equipment(
        con,
        [
            ("E1", "03030101", 2000, 30, "教学", "2020-01-01", None),  # 30 oscilloscopes on one card
            ("E2", "03030101", 150000, 2, "科研", "2020-01-01", None),  # two large instruments on one card
        ],
    )
    row = single_row(con, "equipment_assets")
    assert row["teaching_equipment_10k"] == pytest.approx(36.0)  # 60000 + 300000 (value is price × quantity)
    assert (row["teaching_equipment_count"], row["large_equipment_count"]) == (32, 2)


# ---------------------------------------------------------------------------------------------- external_teacher


def test_external_teacher_engaged_during_the_year_both_kinds(con):
    con.execute("""create table core.external_teacher as select * from (values
        ('W1', '刘杨', '1', date '1970-07-23', 'x', '校外兼职', '立信电子有限公司', '技术总监', '083', '21', '101',
         date '2025-09-01', date '2028-08-31', 'rw1'),
        ('W2', '陈敏', '2', date '1982-03-15', 'x', '校外兼课', '某某师范学院', '教师', '012', '14', '101',
         date '2026-09-01', date '2027-01-31', 'rw2'),
        ('W3', '周强', '1', date '1975-01-01', 'x', '校外兼职', '甲公司', '工程师', '083', '21', '101',
         date '2024-09-01', date '2026-08-31', 'rw3'),   -- ended before the year
        ('W4', '吴军', '1', date '1980-01-01', 'x', '校外兼职', '乙公司', '经理', null, null, '101',
         date '2027-09-01', null, 'rw4'),                  -- starts after the year
        ('W5', '郑丽', '2', date '1990-11-30', 'x', '校外兼课', '丙学校', '教师', null, null, '999',
         date '2027-03-01', null, 'rw5'),                  -- engaged in the spring term; unknown department
        ('W6', '王芳', '9', date '1968-02-02', 'x', '校外兼职', '丁公司', '高级技师', '999', '90', '101',
         date '2023-09-01', date '2026-09-01', 'rw6'))    -- ends on the first day of the year
        t(teacher_id, name, gender, birth_date, id_card, kind, employer, job_title, title_code, education, dept_code,
          engaged_from, engaged_to, _raw_id)""")
    rows = sorted(platform_rows(con, "external_teacher", exclude=("academic_year",)), key=lambda r: r[2])
    assert rows == [
        (
            "校外兼职",
            "信息工程学院",
            "W1",
            "刘杨",
            "男",
            "1970-07",
            "大学本科毕业",
            "中级",
            "工程师",
            "立信电子有限公司",
            "技术总监",
            "2025-09",
            ["rw1"],
        ),
        (
            "校外兼课",
            "信息工程学院",
            "W2",
            "陈敏",
            "女",
            "1982-03",
            "硕士研究生毕业",
            "副高级",
            "副教授",
            "某某师范学院",
            "教师",
            "2026-09",
            ["rw2"],
        ),
        ("校外兼课", None, "W5", "郑丽", "女", "1990-11", None, None, None, "丙学校", "教师", "2027-03", ["rw5"]),
        # a code not in the national list stays as it is, to be seen
        (
            "校外兼职",
            "信息工程学院",
            "W6",
            "王芳",
            "未说明的性别",
            "1968-02",
            "其他",
            "999",
            "999",
            "丁公司",
            "高级技师",
            "2023-09",
            ["rw6"],
        ),
    ]


# ---------------------------------------------------------------------------------------------- graduate_employment


def test_graduate_employment_this_years_and_last_years_graduates(con):
    create_major_code(con)
    create_students(
        con,
        [  # id, major, grade, enrolled, left, status, origin
            ("g1", "M1", 2024, "2024-09-01", "2027-06-30", "04", None),  # 应届, employed (11)
            ("g2", "M1", 2024, "2024-09-01", "2027-06-30", "04", None),  # 应届, further study (80)
            ("g3", "M1", 2024, "2024-09-01", "2027-06-30", "04", None),  # 应届, own business (75): employed too
            ("g4", "M1", 2024, "2024-09-01", "2027-06-30", "04", None),  # 应届, destination only for another year
            ("g5", "M1", 2024, "2024-09-01", "2027-01-10", "03", None),  # dropped out: not a graduate
            ("g6", "M1", 2023, "2023-09-01", "2026-06-30", "04", None),  # 上届, waiting (70)
            ("g7", "M2", 2023, "2023-09-01", "2026-06-30", "04", None),  # 上届, employed (10)
            ("g8", "M2", 2022, "2022-09-01", "2025-06-30", "04", None),  # two years ago: neither cohort
            ("g9", "M1", 2025, "2025-09-01", None, "01", None),  # still studying
            ("g10", "M2", 2025, "2025-09-01", "2028-06-30", "04", None),  # graduates next year
        ],
    )
    con.execute("""create table core.graduate as select * from (values
        (2027, 'g1', '11', '签劳动合同形式就业', 'A公司', null, null, 'd1'),
        (2027, 'g2', '80', '升学', null, null, null, 'd2'),
        (2027, 'g3', '75', '自主创业', null, null, null, 'd3'),
        (2026, 'g4', '10', '签就业协议形式就业', 'B公司', null, null, 'd4'),
        (2026, 'g6', '70', '待就业', null, null, null, 'd6'),
        (2026, 'g7', '10', '签就业协议形式就业', 'C医院', null, null, 'd7'),
        (2025, 'g8', '10', '签就业协议形式就业', 'D公司', null, null, 'd8'))
        t(graduation_year, student_id, destination_code, destination, employer, employer_credit_code, region,
          _raw_id)""")
    assert platform_rows(con, "graduate_employment") == [
        # cohort, catalog, name, graduates, employed, further study, entrepreneurs, not reported, rate,
        # placed (毕业去向落实: every destination but 待就业 / 暂不就业; further study counts), placement rate
        ("上届", "510203", "软件技术", 1, 0, 0, 0, 0, 0.0, 0, 0.0),
        ("上届", "520201", "护理", 1, 1, 0, 0, 0, 100.0, 1, 100.0),
        (
            "应届",
            "510203",
            "软件技术",
            4,
            2,
            1,
            1,
            1,
            50.0,
            3,
            75.0,
        ),  # g1, g2 (升学), g3; g4 reported no 2027 destination
    ]
    assert raw_ids(con, "graduate_employment") == [
        ["d6", "r_g6"],
        ["d7", "r_g7"],
        ["d1", "d2", "d3", "r_g1", "r_g2", "r_g3", "r_g4"],
    ]
    assert [r[:3] for r in lineage(con, "graduate_employment", "应届|510203")] == [
        ("应届|510203", "employed", ["d1", "d3"]),
        ("应届|510203", "entrepreneurs", ["d3"]),
        ("应届|510203", "further_study", ["d2"]),
        ("应届|510203", "graduates", ["r_g1", "r_g2", "r_g3", "r_g4"]),
        ("应届|510203", "not_reported", ["r_g4"]),
        ("应届|510203", "placed", ["d1", "d2", "d3"]),
    ]


# ---------------------------------------------------------------------------------------------- internal_part_time_teacher


def test_internal_part_time_teacher_staff_outside_teaching_posts_who_teach(con):
    con.execute("""create table core.staff as select * from (values
        -- A teaches; B teaches nothing; C is a full-time teacher; D leaves on the stock date; E is hired after it;
        -- F has no post type, an unknown department and codes outside the national lists
        ('A', '赵四', '2', date '1985-04-04', '03', 'x', '01', '21', '4', '083', '行政人员', false, '201', date '2008-07-01', date '2008-07-01', null, 1, 'ra'),
        ('B', '孙五', '1', date '1980-01-01', '01', 'x', '13', '21', '4', null, '教辅人员', false, '101', date '2005-07-01', date '2005-07-01', null, 1, 'rb'),
        ('C', '钱六', '1', date '1979-01-01', '01', 'x', '01', '14', '3', '013', '专任教师', true, '101', date '2004-07-01', date '2004-07-01', null, 1, 'rc'),
        ('D', '李七', '2', date '1970-01-01', '01', 'x', '01', '21', '4', '133', '行政人员', false, '201', date '1995-07-01', date '1995-07-01', date '2026-09-01', 1, 'rd'),
        ('E', '周八', '1', date '1998-01-01', '01', 'x', '13', '14', '3', null, '行政人员', false, '201', date '2026-09-02', date '2026-09-02', null, 1, 're'),
        ('F', '吴九', '1', date '1990-01-15', '01', 'x', '13', '99', null, null, null, false, '999', date '2015-07-01', date '2015-07-01', null, 1, 'rf'))
        t(staff_id, name, gender, birth_date, ethnicity, id_card, political_status, education, degree, title_code,
          post_type, dual_qualified, dept_code, work_started_on, hired_on, left_on, _duplicate_count, _raw_id)""")
    con.execute("""create table core.teaching_task as select * from (values
        ('t1', '1', '2026-2027', 'K1', 'c1', 'A', 32, 'rt1'),
        ('t2', '2', '2026-2027', 'K2', 'c2', 'A', 48, 'rt2'),
        ('t3', '2', '2025-2026', 'K3', 'c3', 'A', 64, 'rt3'),   -- last year
        ('t4', '1', '2026-2027', 'K1', 'c1', 'C', 64, 'rt4'),
        ('t5', '1', '2026-2027', 'K1', 'c1', 'D', 32, 'rt5'),
        ('t6', '2', '2026-2027', 'K1', 'c1', 'E', 32, 'rt6'),
        ('t7', '1', '2026-2027', 'K4', 'c4', 'F', 16, 'rt7'),
        ('t8', '1', '2025-2026', 'K4', 'c4', 'B', 16, 'rt8'))   -- B taught last year only
        t(task_id, term, academic_year, course_id, class_id, teacher_id, hours, _raw_id)""")
    rows = sorted(platform_rows(con, "internal_part_time_teacher"), key=lambda r: r[1])
    assert rows == [
        (
            "党政办公室",
            "A",
            "赵四",
            "女",
            "1985-04",
            "回族",
            "2008-07",
            "大学本科毕业",
            "学士",
            "中级",
            "工程师",
            "行政人员",
            80,
        ),
        (None, "F", "吴九", "男", "1990-01", "汉族", "2015-07", "99", None, None, None, None, 16),
    ]
    assert sorted(raw_ids(con, "internal_part_time_teacher")) == [["ra", "rt1", "rt2"], ["rf", "rt7"]]
    assert lineage(con, "internal_part_time_teacher") == [
        ("A", "teaching_hours", ["rt1", "rt2"], 80.0),
        ("F", "teaching_hours", ["rt7"], 16.0),
    ]


# ---------------------------------------------------------------------------------------------- internship


def create_internship_inputs(con, plans, students):
    create_major_code(con)
    con.execute("""create table core.course as select * from (values
        ('SX1', '岗位实习', 'C', '专业实践课', 480, 480, 24.00, '101', false, 1, 'rc1'),
        ('SX2', '顶岗实习', 'C', '专业实践课', 600, 600, 30.00, '101', false, 1, 'rc2'),
        ('GJ', '金工实习', 'B', '专业基础课', 72, 36, 4.50, '101', false, 1, 'rc3'),
        ('K1', 'Python程序设计', 'B', '专业核心课', 64, 32, 4.00, '101', true, 1, 'rc4'))
        t(course_id, course_name, course_type, course_nature, total_hours, practice_hours, credits, dept_code, is_core,
          _duplicate_count, _raw_id)""")
    con.execute("create table core.teaching_plan (grade bigint, major_id varchar, course_id varchar, term_no bigint, "
                "assessment varchar, _raw_id varchar)")  # fmt: skip
    con.executemany("insert into core.teaching_plan values (?, ?, ?, ?, '考查', ?)", plans)
    create_students(con, students)
    con.execute("""create table core.practice_base as select * from (values
        ('校外', 'B1', '甲基地', '101', 'M1', date '2020-06-01', null, 'rb1'),
        ('校外', 'B2', '乙基地', '101', 'M1', date '2018-06-01', date '2026-08-31', 'rb2'),  -- closed before the year
        ('校内', 'B3', '实训中心', '101', 'M1', date '2015-06-01', null, 'rb3'),             -- on campus
        ('校外', 'B4', '丙基地', '101', 'M1', date '2027-05-01', null, 'rb4'),             -- opened during the year
        ('校外', 'B5', '丁基地', '101', 'M3', date '2020-06-01', null, 'rb5'))             -- major without interns
        t(location, base_id, base_name, dept_code, major_id, established_on, closed_on, _raw_id)""")


def test_internship_counts_the_cohorts_whose_placement_falls_in_the_year(con):
    create_internship_inputs(
        con,
        [  # grade, major, course, term (term 5-6 of the 2024 cohort fall in 2026-2027), raw id
            (2024, "M1", "SX1", 6, "p1"),
            (2024, "M1", "K1", 5, "p2"),  # not an internship
            (2025, "M1", "SX1", 6, "p3"),  # the 2025 cohort goes out next year
            (2024, "M2", "SX2", 5, "p4"),
            (2024, "M3", "GJ", 6, "p5"),  # a workshop practice, not a placement
        ],
        [  # id, major, grade, enrolled, left, status, origin
            ("i1", "M1", 2024, "2024-09-01", None, "01", None),
            ("i2", "M1", 2024, "2024-09-01", "2026-06-30", "03", None),  # left before the year
            ("i3", "M1", 2024, "2024-09-01", "2026-09-01", "03", None),  # left on the stock date
            ("i4", "M1", 2024, "2024-09-01", "2027-06-30", "04", None),  # graduates during the year: an intern
            ("i5", "M1", 2025, "2025-09-01", None, "01", None),
            ("i6", "M2", 2024, "2024-09-01", None, "02", None),
            ("i7", "M3", 2024, "2024-09-01", None, "01", None),
        ],
    )
    assert platform_rows(con, "internship") == [
        # catalog, name, interns, internship hours, external bases
        ("510203", "软件技术", 2, 480, 2),
        ("520201", "护理", 1, 600, 0),
    ]
    assert raw_ids(con, "internship") == [["r_i1", "r_i4", "rb1", "rb4"], ["r_i6"]]
    assert [r[:3] for r in lineage(con, "internship")] == [
        ("510203", "external_bases", ["rb1", "rb4"]),
        ("510203", "interns", ["r_i1", "r_i4"]),
        ("520201", "interns", ["r_i6"]),
    ]


def test_internship_counts_a_student_with_two_placement_courses_once(con):
    create_internship_inputs(
        con,
        [(2024, "M1", "SX1", 5, "p1"), (2024, "M1", "SX2", 6, "p2")],  # 岗位实习 in term 5, 顶岗实习 in term 6
        [
            ("i1", "M1", 2024, "2024-09-01", None, "01", None),
            ("i2", "M1", 2024, "2024-09-01", None, "01", None),
        ],
    )
    # two interns (not four), and the year's internship hours are both courses' (480 + 600)
    assert [r[:4] for r in platform_rows(con, "internship")] == [("510203", "软件技术", 2, 1080)]


# ---------------------------------------------------------------------------------------------- it_conditions


def create_it_form(con, rows):
    con.execute("""create table staging.it_facility (classrooms bigint, multimedia_rooms bigint,
        multimedia_seats bigint, language_lab_seats bigint, reading_seats bigint, internet_mbps decimal(18, 2),
        backbone_mbps decimal(18, 2), info_points bigint, wireless varchar, academic_year varchar, filled_by varchar,
        filled_on varchar, _raw_id varchar, _source_key varchar, _batch_id bigint)""")
    if rows:
        con.executemany("insert into staging.it_facility values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'k', 1)", rows)


COMPUTERS = [  # id, class, unit price, quantity, use, acquired, disposed
    ("K1", "05010105", 4000, 1, "教学", "2024-03-01", None),  # desktop for teaching
    ("K2", "05010106", 6000, 1, "行政", "2025-03-01", None),  # laptop in an office
    ("K3", "05010105", 4000, 1, "教学", "2026-09-01", None),  # bought on the stock date
    ("K4", "05010105", 3000, 1, "教学", "2018-03-01", "2026-09-01"),  # disposed on the stock date
    ("K5", "05010105", 4000, 1, "教学", "2026-09-02", None),  # bought after the stock date
    ("K6", "03030101", 5000, 1, "教学", "2020-03-01", None),  # an oscilloscope, not a computer
]


def test_it_conditions_computers_from_the_cards_and_the_years_form(con):
    create_equipment(con, COMPUTERS)
    create_it_form(
        con,
        [
            (55, 45, 2464, 120, 259, 3000, 10000, 3456, "全覆盖", "2025-2026", "刘洋", "2025-09-20", "f1"),
            (60, 47, 2500, 120, 300, 4000, 10000, 3600, "全覆盖", "2026-2027", "刘洋", "2026-11-01", "f2"),
        ],
    )
    assert single_row(con, "it_conditions") == {
        "school_code": "4141099999",
        "computers_total": 3,
        "teaching_computers": 2,
        "classrooms": 60,
        "multimedia_rooms": 47,
        "multimedia_seats": 2500,
        "language_lab_seats": 120,
        "reading_seats": 300,
        "internet_mbps": Decimal("4000.00"),
        "backbone_mbps": Decimal("10000.00"),
        "info_points": 3600,
        "wireless": "全覆盖",
        "filled_by": "刘洋",
        "filled_on": "2026-11-01",
        "_raw_ids": ["f2", "r_K1", "r_K2", "r_K3"],
    }
    assert lineage(con, "it_conditions") == [
        ("4141099999", "classrooms", ["f2"], 60.0),
        ("4141099999", "computers_total", ["r_K1", "r_K2", "r_K3"], 3.0),
        ("4141099999", "info_points", ["f2"], 3600.0),
        ("4141099999", "language_lab_seats", ["f2"], 120.0),
        ("4141099999", "multimedia_rooms", ["f2"], 47.0),
        ("4141099999", "multimedia_seats", ["f2"], 2500.0),
        ("4141099999", "reading_seats", ["f2"], 300.0),
        ("4141099999", "teaching_computers", ["r_K1", "r_K3"], 2.0),
    ]


def test_it_conditions_without_the_years_form_still_has_its_row(con):
    create_equipment(con, COMPUTERS)
    create_it_form(
        con, [(55, 45, 2464, 120, 259, 3000, 10000, 3456, "全覆盖", "2025-2026", "刘洋", "2025-09-20", "f1")]
    )
    row = single_row(con, "it_conditions")
    assert (row["computers_total"], row["teaching_computers"], row["_raw_ids"]) == (3, 2, ["r_K1", "r_K2", "r_K3"])
    form = ["classrooms", "multimedia_rooms", "multimedia_seats", "language_lab_seats", "reading_seats",
            "internet_mbps", "backbone_mbps", "info_points", "wireless", "filled_by", "filled_on"]  # fmt: skip
    assert [row[c] for c in form] == [None] * len(form)  # not filled in yet: blank, not last year's figures


def test_it_conditions_counts_the_computers_on_a_card(con):
    create_equipment(con, [("K1", "05010105", 4000, 40, "教学", "2024-03-01", None)])  # a lab's 40 desktops
    create_it_form(con, [])
    row = single_row(con, "it_conditions")
    assert (row["computers_total"], row["teaching_computers"]) == (40, 40)


# ---------------------------------------------------------------------------------------------- land_building


def test_land_building_areas_on_the_stock_date_and_the_years_new_buildings(con):
    con.execute("""create table core.land as select * from (values
        ('L1', '主校区', 100000.0, '学校产权', date '2003-06-01', 'rl1'),
        ('L2', '实训基地', 10000.0, '租用', null, 'rl2'),           -- no date: held
        ('L3', '新校区', 20000.0, '学校产权', date '2026-10-01', 'rl3'))  -- acquired after the stock date
        t(parcel_id, parcel_name, area_m2, ownership, acquired_on, _raw_id)""")
    con.execute("""create table core.building as select * from (values
        ('B1', '教学楼', '教室', '教学科研及辅助用房', 5000.00, '学校产权', date '2005-06-01', 'rb1'),
        ('B2', '学生公寓', '学生宿舍（公寓）', '生活用房', 8000.00, '非学校产权', date '2010-06-01', 'rb2'),
        ('B3', '行政楼', '行政办公用房', '行政办公用房', 2000.00, '学校产权', null, 'rb3'),
        ('B4', '图书馆', '图书馆', '教学科研及辅助用房', 3000.00, '学校产权', date '2027-03-01', 'rb4'),
        ('B5', '教工住宅', '教工住宅', '教工住宅', 1000.00, '学校产权', date '2026-09-01', 'rb5'),
        ('B6', '仓库', '仓库', '其他用房', 500.00, null, date '2001-01-01', 'rb6'),
        ('B7', '实训楼', '实验室、实习场所', '教学科研及辅助用房', 4000.00, '学校产权', date '2026-08-31', 'rb7'))
        t(building_id, building_name, use, use_group, floor_area_m2, ownership, built_on, _raw_id)""")
    # B4 is finished during the year: new, but not yet in the stock; B5 is finished on the stock date: both;
    # B7 the day before: in the stock, last year's addition; B6's ownership is not recorded: not the school's
    row = single_row(con, "land_building")
    assert {k: v for k, v in row.items() if k != "_raw_ids"} == {
        "school_code": "4141099999",
        "land_area_m2": 110000,
        "land_owned_m2": 100000,
        "floor_area_total_m2": 20500,  # B1 B2 B3 B5 B6 B7
        "floor_area_owned_m2": 12000,  # B1 B3 B5 B7
        "floor_area_not_owned_m2": 8500,  # B2 B6
        "teaching_research_m2": 9000,
        "classroom_m2": 5000,
        "library_m2": 0,
        "lab_m2": 4000,
        "research_m2": 0,
        "gym_m2": 0,
        "hall_m2": 0,
        "admin_m2": 2000,
        "living_m2": 8000,
        "student_dorm_m2": 8000,
        "student_canteen_m2": 0,
        "staff_dorm_m2": 0,
        "staff_canteen_m2": 0,
        "welfare_m2": 0,
        "staff_housing_m2": 1000,
        "other_m2": 500,
        "floor_area_new_m2": 4000,  # B4 B5
    }
    assert set(row["_raw_ids"]) == {"rl1", "rl2", "rb1", "rb2", "rb3", "rb4", "rb5", "rb6", "rb7"}
    assert [r[1:] for r in lineage(con, "land_building") if r[1] in ("floor_area_new_m2", "land_owned_m2")] == [
        ("floor_area_new_m2", ["rb4", "rb5"], 4000.0),
        ("land_owned_m2", ["rl1"], 100000.0),
    ]


# ---------------------------------------------------------------------------------------------- library


def test_library_holdings_on_the_stock_date_the_years_flows_and_e_resources(con):
    con.execute("""create table core.library_item as select * from (values
        ('CN1', '中文图书', 1, date '2020-05-01', null, 'r1'),
        ('CN2', '中文图书', 1, date '2026-09-01', null, 'r2'),              -- on the stock date: held and added
        ('FR1', '外文图书', 1, date '2019-05-01', null, 'r3'),
        ('CN3', '中文图书', 1, date '2012-05-01', date '2026-09-01', 'r4'),  -- withdrawn on the stock date
        ('CN4', '中文图书', 1, date '2026-10-01', null, 'r5'),              -- added after the stock date
        ('CN5', '中文图书', 1, date '2011-05-01', date '2026-06-01', 'r6'),  -- withdrawn last year
        ('FR2', '外文图书', 1, date '2027-09-01', null, 'r7'),              -- next year
        ('DZ1', '电子图书', 108000, date '2026-01-01', null, 'e1'),
        ('DZ2', '电子图书', 5000, date '2028-01-01', null, 'e2'),           -- bought after the year
        ('DZ3', '电子期刊', 650, date '2027-01-01', null, 'e3'),
        ('DZ4', '电子期刊', null, date '2025-01-01', null, 'e4'),           -- quantity not recorded
        ('DZ5', '数据库', 1, date '2026-01-01', null, 'e5'),
        ('DZ6', '数据库', 1, date '2028-01-01', null, 'e6'),
        ('DZ7', '学位论文', 420000, date '2024-01-01', null, 'e7'))         -- not a column of the table
        t(item_id, kind, quantity, acquired_on, withdrawn_on, _raw_id)""")
    assert single_row(con, "library") == {
        "school_code": "4141099999",
        "books_total": 3,
        "books_chinese": 2,
        "books_foreign": 1,
        "books_added": 2,  # CN2 CN4
        "books_withdrawn": 1,  # CN3
        "e_books": 108000,
        "e_journals": 650,
        "databases": 1,
        "_raw_ids": ["r1", "r2", "r3"],
    }
    assert con.execute(
        "select via, amount from lineage.cell where table_name = 'library' and column_name = 'books_total' order by via"
    ).fetchall() == [("library|4141099999|books_chinese", 1.0), ("library|4141099999|books_foreign", 1.0)]
    assert [r[1:3] for r in lineage(con, "library")] == [
        ("books_added", ["r2", "r5"]),
        ("books_chinese", ["r1", "r2"]),
        ("books_foreign", ["r3"]),
        ("books_withdrawn", ["r4"]),
        ("databases", ["e5"]),
        ("e_books", ["e1"]),
        ("e_journals", ["e3", "e4"]),
    ]
