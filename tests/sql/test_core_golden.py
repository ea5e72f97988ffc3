"""Golden tests of warehouse/sql/core: small hand-made staging tables in, exactly these core rows out.

Staging tables hold the canonical field names of demo_campus/college/mappings/*.yaml, already trimmed, translated and
typed (warehouse/staging.py); raw ids here are short made-up strings, so "first version by raw id" is visible.
Golden rows are kept one per line (`# fmt: skip`).
"""

from datetime import date
from decimal import Decimal

import pytest

from warehouse import db


@pytest.fixture
def con(tmp_path):
    with db.connect(tmp_path / "golden.duckdb") as con:
        db.init(con)
        yield con


def core_rows(con, name, order_by, params=None, exclude=None):
    db.rebuild(con, "core", name, params)
    cols = f"* exclude ({exclude})" if exclude else "*"
    return con.execute(f"select {cols} from core.{name} order by {order_by}").fetchall()


def test_building_use_groups_follow_the_national_categories(con):
    """Each 房屋用途 falls in its national group; a code the mapping could not translate is 其他用房."""
    con.execute("""create table staging.building as select * from (values
        ('FW01', '实训楼', '实验室、实习场所', 4200.50, '学校产权', date '2012-08-01', 'b2'),
        ('FW01', '实训楼（旧）', '教室', 1.00, '学校产权', date '1990-08-01', 'b9'),
        ('FW02', '行政楼', '行政办公用房', 3000.00, '学校产权', date '2005-08-01', 'b3'),
        ('FW03', '学生公寓1号楼', '学生宿舍（公寓）', 8000.00, '非学校产权', null, 'b4'),
        ('FW04', '教工住宅A区', '教工住宅', 2000.00, '学校产权', date '1998-08-01', 'b5'),
        ('FW05', '锅炉房', '14', 300.00, '学校产权', date '2001-08-01', 'b6'))
        t(building_id, building_name, use, floor_area_m2, ownership, built_on, _raw_id)""")
    assert core_rows(con, "building", "building_id") == [
        # the duplicate FW01 keeps its first version by raw id (b2), not the classroom version
        ("FW01", "实训楼", "实验室、实习场所", "教学科研及辅助用房", Decimal("4200.50"), "学校产权", date(2012, 8, 1), "b2"),
        ("FW02", "行政楼", "行政办公用房", "行政办公用房", Decimal("3000.00"), "学校产权", date(2005, 8, 1), "b3"),
        ("FW03", "学生公寓1号楼", "学生宿舍（公寓）", "生活用房", Decimal("8000.00"), "非学校产权", None, "b4"),
        ("FW04", "教工住宅A区", "教工住宅", "教工住宅", Decimal("2000.00"), "学校产权", date(1998, 8, 1), "b5"),
        ("FW05", "锅炉房", "14", "其他用房", Decimal("300.00"), "学校产权", date(2001, 8, 1), "b6"),
    ]  # fmt: skip


def test_class_keeps_one_row_per_class_id(con):
    con.execute("""create table staging.class as select * from (values
        ('2026100101', '软件技术2026级1班', '1001', 2026, '101', '200238', 'c2'),
        ('2026100101', '软件2601班', '1001', 2026, '101', null, 'c7'),
        ('2025300201', '护理2025级1班', '3002', 2025, null, '150011', 'c3'))
        t(class_id, class_name, major_id, grade, dept_code, head_teacher_id, _raw_id)""")
    assert core_rows(con, "class", "class_id") == [
        ("2025300201", "护理2025级1班", "3002", 2025, None, "c3"),  # no department stays no department
        ("2026100101", "软件技术2026级1班", "1001", 2026, "101", "c2"),  # c2 before c7; the head teacher is not kept
    ]  # fmt: skip


def test_course_flags_core_courses_and_counts_duplicate_codes(con):
    con.execute("""create table staging.course as select * from (values
        ('100101', '高等数学', 'A', '公共基础课', 64, 0, 4.00, '101', '0', 'k1'),
        ('100716', 'Java程序设计', 'B', '专业核心课', 96, 48, 6.00, '101', '1', 'k5'),
        ('100716', 'Java程序设计基础', 'B', '专业核心课', 80, 40, 5.00, '101', '1', 'k3'),
        ('300201', '护理学基础', 'B', '专业基础课', 72, 36, 4.50, '103', null, 'k4'))
        t(course_id, course_name, course_type, course_nature, total_hours, practice_hours, credits, dept_code,
          is_core, _raw_id)""")
    assert core_rows(con, "course", "course_id") == [
        ("100101", "高等数学", "A", "公共基础课", 64, 0, Decimal("4.00"), "101", False, 1, "k1"),
        # two rows with code 100716: the first by raw id (k3) is kept, and the pair is counted for R-KC-003
        ("100716", "Java程序设计基础", "B", "专业核心课", 80, 40, Decimal("5.00"), "101", True, 2, "k3"),
        # 核心课 not recorded: unknown, not false
        ("300201", "护理学基础", "B", "专业基础课", 72, 36, Decimal("4.50"), "103", None, 1, "k4"),
    ]  # fmt: skip


def test_enrolment_plan_moves_2015_codes_to_their_2021_successor(con):
    con.execute("""create table staging.enrolment_plan as select * from (values
        ('610205', '软件技术', 50, 52, 48, 40, '2026', 'e3'),
        ('510203', '软件技术', 55, 55, 50, 41, '2026', 'e7'),
        ('510203', '软件技术', 45, 47, 44, 36, '2025', 'e1'),
        ('520201', '护理', 80, 82, 79, 70, '2026', 'e2'),
        ('999999', '未知专业', 10, 9, 9, 9, '2026', 'e4'))
        t(catalog_code, major_name, planned, admitted, registered, in_province, intake_year, _raw_id)""")
    assert core_rows(con, "enrolment_plan", "intake_year, catalog_code") == [
        (2025, "510203", "软件技术", 45, 47, 44, 36, "e1"),  # the same major another year is another row
        # 610205 (2015 catalogue) is 510203 in 2021: one major listed twice in 2026, the first by raw id stays
        (2026, "510203", "软件技术", 50, 52, 48, 40, "e3"),
        (2026, "520201", "护理", 80, 82, 79, 70, "e2"),
        (2026, "999999", "未知专业", 10, 9, 9, 9, "e4"),  # no successor: kept as sent, for R-ZY-001 to report
    ]  # fmt: skip


def test_equipment_value_is_unit_price_times_quantity(con):
    con.execute("""create table staging.equipment as select * from (values
        ('SB01', '数控车床', '04010101', 250000.00, 1, '教学', '在用', date '2019-10-06', null, '102', 'JD10201', 'q1'),
        ('SB01', '数控车床', '04010101', 250000.00, 3, '教学', '在用', date '2019-10-06', null, '102', 'JD10201', 'q8'),
        ('SB02', '学生机房电脑', '05010104', 4800.00, 40, '教学', '在用', date '2024-09-01', null, '101', 'JD10101', 'q2'),
        ('SB03', '办公桌', '07010101', 850.00, null, '行政', '在用', date '2015-03-01', null, '201', null, 'q3'),
        ('SB04', '示波器', '03030101', 3200.00, 2, '科研', '报废', date '2012-05-01', date '2025-12-20', '101', null, 'q4'),
        ('SB05', '空调', '06040101', 4115.01, 1, null, '在用', date '2020-06-01', null, '103', null, 'q5'))
        t(asset_id, asset_name, class_code, unit_price, quantity, use, state, acquired_on, disposed_on, dept_code,
          base_id, _raw_id)""")
    assert core_rows(con, "equipment", "asset_id") == [
        # asset_id, name, class, unit price, quantity, value (元), use, for teaching/research, state, acquired,
        # disposed, dept, base, raw id; the duplicate card SB01 keeps q1 (quantity 1), not q8
        ("SB01", "数控车床", "04010101", Decimal("250000.00"), 1, Decimal("250000.00"), "教学", True, "在用", date(2019, 10, 6), None, "102", "JD10201", "q1"),
        ("SB02", "学生机房电脑", "05010104", Decimal("4800.00"), 40, Decimal("192000.00"), "教学", True, "在用", date(2024, 9, 1), None, "101", "JD10101", "q2"),
        # no quantity on the card: one piece
        ("SB03", "办公桌", "07010101", Decimal("850.00"), 1, Decimal("850.00"), "行政", False, "在用", date(2015, 3, 1), None, "201", None, "q3"),
        ("SB04", "示波器", "03030101", Decimal("3200.00"), 2, Decimal("6400.00"), "科研", True, "报废", date(2012, 5, 1), date(2025, 12, 20), "101", None, "q4"),
        # use unknown: not known to be for teaching or research (null, which the platform's `where counted` skips)
        ("SB05", "空调", "06040101", Decimal("4115.01"), 1, Decimal("4115.01"), None, None, "在用", date(2020, 6, 1), None, "103", None, "q5"),
    ]  # fmt: skip


def test_external_teacher_keeps_the_first_version_of_each_teacher(con):
    con.execute("""create table staging.external_teacher as select * from (values
        ('WP001', '刘工', '1', date '1978-03-02', '410102197803020011', '校外兼职', '宇通客车股份有限公司', '高级工程师', '022', '21', '102', date '2025-09-01', date '2027-07-15', 'x4'),
        ('WP001', '刘工', '1', date '1978-03-02', '410102197803020011', '校外兼职', '宇通客车股份有限公司', '工程师', '023', '21', '102', date '2024-09-01', date '2025-07-15', 'x6'),
        ('WP002', '陈老师', '2', null, null, '校外兼课', '河南工业职业技术学院', '讲师', '013', '14', '101', date '2026-09-01', null, 'x2'))
        t(teacher_id, name, gender, birth_date, id_card, kind, employer, job_title, title_code, education, dept_code,
          engaged_from, engaged_to, _raw_id)""")
    assert core_rows(con, "external_teacher", "teacher_id") == [
        ("WP001", "刘工", "1", date(1978, 3, 2), "410102197803020011", "校外兼职", "宇通客车股份有限公司", "高级工程师", "022", "21", "102", date(2025, 9, 1), date(2027, 7, 15), "x4"),
        ("WP002", "陈老师", "2", None, None, "校外兼课", "河南工业职业技术学院", "讲师", "013", "14", "101", date(2026, 9, 1), None, "x2"),
    ]  # fmt: skip


def test_graduate_one_destination_per_student_and_graduation_year(con):
    con.execute("""create table staging.graduate_destination as select * from (values
        ('2025', '202210090050', '陆阳', '软件技术', '75', '自主创业', '富罳网络有限公司', '914110259T09YBDNBK', '410822', 'g4'),
        ('2025', '202210090050', '陆阳', '软件技术', '10', '签就业协议形式就业', '某科技有限公司', null, '410100', 'g8'),
        ('2025', '202220030028', '蔡淑兰', '机械制造及自动化', '46', '应征义务兵', null, null, null, 'g5'),
        ('2026', '202210090050', '陆阳', '软件技术', '80', '升学', null, null, null, 'g3'))
        t(graduation_year, student_id, name, major_name, destination_code, destination, employer, employer_credit_code,
          region, _raw_id)""")
    assert core_rows(con, "graduate", "graduation_year, student_id") == [
        # the student listed twice in the 2025 file keeps the first row by raw id; name and major are not kept
        (2025, "202210090050", "75", "自主创业", "富罳网络有限公司", "914110259T09YBDNBK", "410822", "g4"),
        (2025, "202220030028", "46", "应征义务兵", None, None, None, "g5"),
        (2026, "202210090050", "80", "升学", None, None, None, "g3"),  # another graduation year's file: its own row
    ]  # fmt: skip


def test_land_keeps_the_first_version_of_each_parcel(con):
    con.execute("""create table staging.land as select * from (values
        ('TD01', '主校区', 110400.00, '学校产权', date '2003-05-01', 'l1'),
        ('TD02', '东校区', 666.67, '非学校产权', null, 'l2'),
        ('TD03', '实训校区', 14400.00, '学校产权', date '2016-10-20', 'l5'),
        ('TD03', '实训校区', 13333.33, '学校产权', date '2016-10-20', 'l3'))
        t(parcel_id, parcel_name, area_m2, ownership, acquired_on, _raw_id)""")
    assert core_rows(con, "land", "parcel_id") == [
        ("TD01", "主校区", Decimal("110400.00"), "学校产权", date(2003, 5, 1), "l1"),
        ("TD02", "东校区", Decimal("666.67"), "非学校产权", None, "l2"),
        ("TD03", "实训校区", Decimal("13333.33"), "学校产权", date(2016, 10, 20), "l3"),  # l3 before l5
    ]  # fmt: skip


def test_leader_one_row_per_person_and_post(con):
    con.execute("""create table staging.leader as select * from (values
        ('920231', '党委书记', date '2019-07-01', null, '主持党委全面工作', 'd1'),
        ('020114', '副校长', date '2022-07-01', null, '分管财务、资产与后勤', 'd3'),
        ('020114', '副校长', date '2020-07-01', date '2022-06-30', '分管教学', 'd5'),
        ('020114', '党委副书记', date '2018-07-01', date '2022-06-30', '分管组织', 'd4'))
        t(staff_id, post, since, until, duties, _raw_id)""")
    assert core_rows(con, "leader", "staff_id, post") == [
        ("020114", "党委副书记", date(2018, 7, 1), date(2022, 6, 30), "分管组织", "d4"),  # a second post of one person
        ("020114", "副校长", date(2022, 7, 1), None, "分管财务、资产与后勤", "d3"),  # d3 before d5
        ("920231", "党委书记", date(2019, 7, 1), None, "主持党委全面工作", "d1"),
    ]  # fmt: skip


FINANCE_ITEMS = (
    "subject_prefix,subject_name,direction,item\n"
    "410101,事业收入-学费,收入,学费收入\n"
    "4101,事业收入（学费以外）,收入,其他收入\n"
    "500108,业务活动费用-图书购置,支出,图书购置费\n"
    "5001,业务活动费用（其他）,支出,其他支出\n"
)


def test_ledger_entry_maps_subjects_by_longest_prefix(con, tmp_path):
    items = tmp_path / "finance_items.csv"
    items.write_text(FINANCE_ITEMS, encoding="utf-8")
    con.execute("""create table staging.ledger_entry as select * from (values
        ('V1', 1, 2026, date '2026-03-01', '410101', '事业收入-学费', 0.00, 150000.00, 'r1'),
        ('V1', 2, 2026, date '2026-03-01', '410102', '事业收入-住宿费', null, 20000.00, 'r2'),
        ('V2', 1, 2026, date '2026-04-01', '500108', '业务活动费用-图书购置', 30000.00, 0.00, 'r3'),
        ('V3', 1, 2026, date '2026-05-01', '460301', '捐赠收入', 0.00, 5000.00, 'r4'),
        ('V4', 1, 2025, date '2025-12-31', '2201', '应付职工薪酬', 800.00, null, 'r5'))
        t(voucher_id, line_no, fiscal_year, posted_on, subject_code, subject_name, debit, credit, _raw_id)""")
    assert core_rows(con, "ledger_entry", "voucher_id, line_no", {"finance_items": str(items)}) == [
        # 410101 matches both 410101 and 4101: the longer prefix wins
        ("V1", 1, 2026, date(2026, 3, 1), "410101", "事业收入-学费", "收入", "学费收入", Decimal("150000.00"), "r1"),
        # 410102 only matches 4101; a missing debit counts as 0
        ("V1", 2, 2026, date(2026, 3, 1), "410102", "事业收入-住宿费", "收入", "其他收入", Decimal("20000.00"), "r2"),
        # an expense: net credit is negative
        ("V2", 1, 2026, date(2026, 4, 1), "500108", "业务活动费用-图书购置", "支出", "图书购置费", Decimal("-30000.00"), "r3"),
        # unmapped, but a 4… subject is income: visible as such
        ("V3", 1, 2026, date(2026, 5, 1), "460301", "捐赠收入", "收入", "未映射科目 460301", Decimal("5000.00"), "r4"),
        # unmapped and neither income nor expense by its code: no direction
        ("V4", 1, 2025, date(2025, 12, 31), "2201", "应付职工薪酬", None, "未映射科目 2201", Decimal("-800.00"), "r5"),
    ]  # fmt: skip


def test_ledger_entry_duplicate_voucher_line_keeps_its_first_version_by_raw_id(con, tmp_path):
    items = tmp_path / "finance_items.csv"
    items.write_text(FINANCE_ITEMS, encoding="utf-8")
    con.execute("""create table staging.ledger_entry as select * from (values
        ('V9', 1, 2026, date '2026-06-01', '410199', '事业收入-其他', 0.00, 1000.00, 'r6'),
        ('V9', 1, 2026, date '2026-06-01', '410101', '事业收入-学费', 0.00, 9000.00, 'r8'))
        t(voucher_id, line_no, fiscal_year, posted_on, subject_code, subject_name, debit, credit, _raw_id)""")
    assert core_rows(con, "ledger_entry", "voucher_id, line_no", {"finance_items": str(items)}) == [
        ("V9", 1, 2026, date(2026, 6, 1), "410199", "事业收入-其他", "收入", "其他收入", Decimal("1000.00"), "r6"),
    ]  # fmt: skip


def test_library_item_copies_and_e_resources_in_one_table(con):
    con.execute("""create table staging.library_item as select * from (values
        ('T0001', '高等数学', 'O', '中文图书', 35.00, date '2015-04-10', null, 'i1'),
        ('T0002', 'Fundamentals of Nursing', 'R', '外文图书', 120.00, date '2020-09-01', date '2025-12-15', 'i2'),
        ('T0002', 'Fundamentals of Nursing', 'R', '外文图书', 120.00, date '2021-09-01', null, 'i9'))
        t(barcode, title, class_code, material_type, price, acquired_on, withdrawn_on, _raw_id)""")
    con.execute("""create table staging.e_resource as select * from (values
        ('DZ001', '超星电子图书', '电子图书', 120000, '册', 2024, 'e1'),
        ('DZ002', '中国知网', '数据库', 1, '个', 2025, 'e2'),
        ('DZ002', '中国知网', '数据库', 1, '个', 2023, 'e5'),
        ('DZ003', '外文电子期刊', '电子期刊', null, '种', null, 'e3'))
        t(resource_id, resource_name, resource_type, quantity, unit, purchase_year, _raw_id)""")
    assert core_rows(con, "library_item", "item_id") == [
        ("DZ001", "电子图书", 120000, date(2024, 1, 1), None, "e1"),  # an e-resource counts from 1 January of its year
        ("DZ002", "数据库", 1, date(2025, 1, 1), None, "e2"),  # e2 before e5
        ("DZ003", "电子期刊", None, None, None, "e3"),  # no quantity, no purchase year: unknown, not zero
        ("T0001", "中文图书", 1, date(2015, 4, 10), None, "i1"),
        ("T0002", "外文图书", 1, date(2020, 9, 1), date(2025, 12, 15), "i2"),  # one copy per barcode: i2 before i9
    ]  # fmt: skip


def test_major_one_row_per_direction_with_the_2021_catalogue_code_and_name(con):
    con.execute("""create table staging.major as select * from (values
        ('1003', '会计', '630302', '103', 3, date '2007-06-01', date '2007-09-01', '230216', '160120', '1', 'm3'),
        ('1002', '计算机应用技术', '510201', '101', 3, date '2012-06-01', date '2012-09-01', '200164', null, '1', 'm2'),
        ('1002', '计算机应用', '510201', '101', 3, date '2012-06-01', date '2012-09-01', '200164', null, '0', 'm8'),
        ('2004', '机电一体化技术', '460399', '102', 2, date '2011-06-01', null, null, null, '1', 'm4'))
        t(major_id, major_name, catalog_code, dept_code, years_of_study, approved_on, first_intake_on, leader_id,
          head_id, status, _raw_id)""")
    con.execute("""create table staging.major_direction as select * from (values
        ('1002', '01', 'Java软件开发', 'd1'),
        ('1002', '02', '移动应用开发', 'd2'),
        ('1002', '02', '移动开发', 'd9'),
        ('9999', '01', '无专业的方向', 'd3'))
        t(major_id, direction_code, direction_name, _raw_id)""")
    assert core_rows(con, "major", "major_id, direction_code") == [
        # one row per direction (m2 before m8, d2 before d9), each naming the major row and its direction row
        ("1002", "01", "Java软件开发", "计算机应用技术", "510201", "计算机应用技术", "101", 3, date(2012, 6, 1), date(2012, 9, 1), "1", "200164", None, ["m2", "d1"]),
        ("1002", "02", "移动应用开发", "计算机应用技术", "510201", "计算机应用技术", "101", 3, date(2012, 6, 1), date(2012, 9, 1), "1", "200164", None, ["m2", "d2"]),
        # 630302 (2015) is 530302 in 2021, whose national name differs from the school's
        ("1003", "", None, "会计", "530302", "大数据与会计", "103", 3, date(2007, 6, 1), date(2007, 9, 1), "1", "230216", "160120", ["m3"]),
        # a code in neither catalogue stays as sent, without a national name (R-ZY-001 reports it)
        ("2004", "", None, "机电一体化技术", "460399", None, "102", 2, date(2011, 6, 1), None, "1", None, None, ["m4"]),
        # the direction of the unknown major 9999 has nothing to attach to: no row
    ]  # fmt: skip


MAJORS_WITH_DIRECTIONS = """create table core.major as select * from (values
    ('1001', '', null, '软件技术', '510203', '软件技术', '101', 3, date '2010-06-01', date '2010-09-01', '1', '200238', '130032', ['m1']),
    ('1002', '01', 'Java软件开发', '计算机应用技术', '510201', '计算机应用技术', '101', 3, date '2012-06-01', date '2012-09-01', '1', '200164', '180021', ['m2', 'd1']),
    ('1002', '02', '移动应用开发', '计算机应用技术', '510201', '计算机应用技术', '101', 3, date '2012-06-01', date '2012-09-01', '1', '200164', '180021', ['m2', 'd2']))
    t(major_id, direction_code, direction_name, major_name, catalog_code, catalog_name, dept_code, years_of_study,
      approved_on, first_intake_on, status, leader_id, head_id, _raw_ids)"""


def test_major_code_folds_directions_into_one_row_per_major(con):
    con.execute(MAJORS_WITH_DIRECTIONS)
    assert core_rows(con, "major_code", "major_id", exclude="_raw_ids") == [
        ("1001", "510203", "软件技术", "101", date(2010, 6, 1), "200238", "130032"),
        ("1002", "510201", "计算机应用技术", "101", date(2012, 6, 1), "200164", "180021"),
    ]  # fmt: skip


def test_major_code_pedigree_is_the_major_row(con):
    con.execute(MAJORS_WITH_DIRECTIONS)
    assert core_rows(con, "major_code", "major_id") == [
        ("1001", "510203", "软件技术", "101", date(2010, 6, 1), "200238", "130032", ["m1"]),
        ("1002", "510201", "计算机应用技术", "101", date(2012, 6, 1), "200164", "180021", ["m2"]),
    ]  # fmt: skip


def test_org_unit_keeps_the_first_version_and_counts_duplicates(con):
    con.execute("""create table staging.org_unit as select * from (values
        ('101', '信息工程学院', '教学单位', null, date '2003-06-01', '1', 'u3'),
        ('101', '信息工程系', '教学单位', null, date '2003-06-01', '0', 'u7'),
        ('10101', '软件教研室', '教学单位', '101', null, '1', 'u1'),
        ('201', '党政办公室', '党政管理部门', null, date '2003-06-01', '1', 'u2'))
        t(unit_code, unit_name, unit_kind, parent_code, founded_on, status, _raw_id)""")
    assert core_rows(con, "org_unit", "unit_code") == [
        ("101", "信息工程学院", "教学单位", None, date(2003, 6, 1), "1", 2, "u3"),  # u3 before u7, counted 2
        ("10101", "软件教研室", "教学单位", "101", None, "1", 1, "u1"),
        ("201", "党政办公室", "党政管理部门", None, date(2003, 6, 1), "1", 1, "u2"),
    ]  # fmt: skip


def test_practice_base_on_and_off_campus_in_one_table(con):
    con.execute("""create table staging.practice_base as select * from (values
        ('JD10101', '软件开发实训中心', '101', 'FW0003', 1196.04, date '2008-06-01', 240, 36, 'p1'),
        ('JD10101', '软件开发实训室', '101', 'FW0003', 600.00, date '2008-06-01', 120, 20, 'p6'),
        ('JD30101', '护理实训中心', '103', null, null, null, 60, null, 'p2'))
        t(base_id, base_name, dept_code, building_id, floor_area_m2, approved_on, workstations, projects, _raw_id)""")
    con.execute("""create table staging.external_base as select * from (values
        ('XW0024', '易动力网络有限公司实习基地', '易动力网络有限公司', '91410926PP9FDBJC76', date '2020-05-01', '1001', 24, '是', null, 'x1'),
        ('XW0025', '惠派公司实习基地', '惠派国际公司信息有限公司', null, date '2018-05-01', '1002', 23, '否', date '2025-06-30', 'x2'))
        t(base_id, base_name, partner, partner_credit_code, established_on, major_id, capacity, lodging, closed_on,
          _raw_id)""")
    assert core_rows(con, "practice_base", "location, base_id") == [
        # location, id, name, dept, major, partner, credit code, building, m², established, closed, workstations,
        # projects, capacity, lodging, raw id; an on-campus base's 批准日期 is its established date; p1 before p6
        ("校内", "JD10101", "软件开发实训中心", "101", None, None, None, "FW0003", Decimal("1196.04"), date(2008, 6, 1), None, 240, 36, None, None, "p1"),
        ("校内", "JD30101", "护理实训中心", "103", None, None, None, None, None, None, None, 60, None, None, None, "p2"),
        ("校外", "XW0024", "易动力网络有限公司实习基地", None, "1001", "易动力网络有限公司", "91410926PP9FDBJC76", None, None, date(2020, 5, 1), None, None, None, 24, "是", "x1"),
        ("校外", "XW0025", "惠派公司实习基地", None, "1002", "惠派国际公司信息有限公司", None, None, None, date(2018, 5, 1), date(2025, 6, 30), None, None, 23, "否", "x2"),
    ]  # fmt: skip


def test_school_profile_sent_twice_keeps_its_first_version(con):
    con.execute("""create table staging.school_profile as select * from (values
        ('4141099999', '示例职业技术学院', '河南省', '郑州市', '2003-06', '河南省教育厅', '地方', '省级', '公办', '明德 精技 笃行', '河南省郑州市示例区职教路1号', '450000', 'https://www.example.edu.cn', '王建国', '0371-60000000', 's2'),
        ('4141099999', '示例职业学院', '河南省', '郑州市', '2003', '河南省教育厅', '地方', '省级', '公办', null, null, null, null, null, null, 's5'))
        t(school_code, school_name, province, city, founded, sponsor_name, sponsor_nature, sponsor_level,
          school_category, motto, address, postcode, website, contact_person, contact_phone, _raw_id)""")
    assert core_rows(con, "school", "school_code") == [
        ("4141099999", "示例职业技术学院", "河南省", "郑州市", "2003-06", "河南省教育厅", "地方", "省级", "公办", "明德 精技 笃行", "河南省郑州市示例区职教路1号", "450000", "https://www.example.edu.cn", "王建国", "0371-60000000", "s2"),
    ]  # fmt: skip


def test_staff_flags_dual_qualified_and_counts_duplicate_numbers(con):
    con.execute("""create table staging.staff as select * from (values
        ('100070', '周红梅', '2', date '1984-06-06', '01', '320402198406066648', '01', '14', '3', '013', '专任教师', '1', '104', date '2010-04-07', date '2010-10-07', null, 't4'),
        ('100070', '周红梅', '2', date '1984-06-06', '01', '320402198406066648', '01', '14', '3', '013', '专任教师', '0', '104', date '2010-04-07', date '2010-10-07', null, 't9'),
        ('260005', '谢云', '1', date '2002-02-01', '01', '410327200202014734', '13', '14', '3', '014', '专任教师', '0', '105', date '2020-06-18', date '2026-03-24', null, 't2'),
        ('300012', '王强', '1', date '1966-05-01', '03', null, '01', '21', null, null, '行政人员', null, '201', date '1988-07-01', date '1990-07-01', date '2026-05-31', 't3'))
        t(staff_id, name, gender, birth_date, ethnicity, id_card, political_status, education, degree, title_code,
          post_type, dual_qualified, dept_code, work_started_on, hired_on, left_on, _raw_id)""")
    assert core_rows(con, "staff", "staff_id") == [
        # staff number 100070 twice at the source: t4 kept (双师 '1' → true), counted 2 for R-JS-012
        ("100070", "周红梅", "2", date(1984, 6, 6), "01", "320402198406066648", "01", "14", "3", "013", "专任教师", True, "104", date(2010, 4, 7), date(2010, 10, 7), None, 2, "t4"),
        ("260005", "谢云", "1", date(2002, 2, 1), "01", "410327200202014734", "13", "14", "3", "014", "专任教师", False, "105", date(2020, 6, 18), date(2026, 3, 24), None, 1, "t2"),
        # 双师 not recorded: unknown; a leaver keeps the leaving date
        ("300012", "王强", "1", date(1966, 5, 1), "03", None, "01", "21", None, None, "行政人员", None, "201", date(1988, 7, 1), date(1990, 7, 1), date(2026, 5, 31), 1, "t3"),
    ]  # fmt: skip


def test_student_duplicate_number_kept_once_and_no_direction_is_empty_code(con):
    con.execute("""create table staging.student as select * from (values
        ('202610010001', '张伟', '1', '01', '410102200803010011', date '2008-03-01', '13', '410102', date '2026-09-01', 2026, 3, '1001', null, '2026100101', '01', null, '普通高考', '普通高中', '1', 'a3'),
        ('202610010001', '张伟', '1', '01', '410102200803010011', date '2008-03-01', '13', '410102', date '2026-09-01', 2026, 3, '1001', null, '2026100102', '01', null, '普通高考', '普通高中', '0', 'a8'),
        ('202510020005', '李娜', '2', '02', '410105200704120026', date '2007-04-12', '03', '410105', date '2025-09-01', 2025, 3, '1002', '01', '2025100201', '01', null, '单独考试招生', '中职', '0', 'a2'),
        ('202330130032', '黎萍', '2', '01', '610113200505276326', date '2005-05-27', '13', '610113', date '2023-09-01', 2023, 3, '3013', null, '2023301301', '04', date '2026-06-30', '普通高考', '普通高中', null, 'a1'))
        t(student_id, name, gender, ethnicity, id_card, birth_date, political_status, origin_region, enrolled_on, grade,
          years_of_study, major_id, direction_code, class_id, status, left_on, admission_mode, origin_type,
          rural_hukou, _raw_id)""")
    assert core_rows(con, "student", "student_id") == [
        # graduated 30 June: left_on kept; 农村户口 not recorded stays unknown
        ("202330130032", "黎萍", "2", "01", "610113200505276326", date(2005, 5, 27), "13", "610113", date(2023, 9, 1), 2023, 3, "3013", "", "2023301301", "04", date(2026, 6, 30), "普通高考", "普通高中", None, 1, "a1"),
        ("202510020005", "李娜", "2", "02", "410105200704120026", date(2007, 4, 12), "03", "410105", date(2025, 9, 1), 2025, 3, "1002", "01", "2025100201", "01", None, "单独考试招生", "中职", False, 1, "a2"),
        # the number twice at the source: the first version by raw id (a3, class …01), counted 2 for R-XS-012
        ("202610010001", "张伟", "1", "01", "410102200803010011", date(2008, 3, 1), "13", "410102", date(2026, 9, 1), 2026, 3, "1001", "", "2026100101", "01", None, "普通高考", "普通高中", True, 2, "a3"),
    ]  # fmt: skip


def test_teaching_plan_one_term_per_cohort_major_and_course(con):
    con.execute("""create table staging.teaching_plan as select * from (values
        (2026, '1001', '100101', 1, '考试', 'j2'),
        (2026, '1001', '100101', 2, '考试', 'j5'),
        (2025, '1001', '100101', 1, '考查', 'j4'),
        (2026, '1002', '100101', 1, '考试', 'j3'),
        (2026, '1001', '100716', 4, '考查', 'j1'))
        t(grade, major_id, course_id, term_no, assessment, _raw_id)""")
    assert core_rows(con, "teaching_plan", "grade, major_id, course_id") == [
        (2025, "1001", "100101", 1, "考查", "j4"),  # the same course for another cohort
        (2026, "1001", "100101", 1, "考试", "j2"),  # listed twice for one cohort: j2 before j5
        (2026, "1001", "100716", 4, "考查", "j1"),
        (2026, "1002", "100101", 1, "考试", "j3"),  # the same course in another major
    ]  # fmt: skip


def test_teaching_task_academic_year_is_the_terms_first_nine_characters(con):
    con.execute("""create table staging.teaching_task as select * from (values
        ('RW1', '2026-2027-1', '100101', '2026100101', '230216', 64, 'w1'),
        ('RW2', '2026-2027-2', '100716', '2025100201', '230166', 72, 'w2'),
        ('RW2', '2026-2027-2', '100716', '2025100201', '230166', 36, 'w9'),
        ('RW3', '2025-2026-2', '100101', '2025100201', '230216', null, 'w3'))
        t(task_id, term, course_id, class_id, teacher_id, hours, _raw_id)""")
    assert core_rows(con, "teaching_task", "task_id") == [
        ("RW1", "2026-2027-1", "2026-2027", "100101", "2026100101", "230216", 64, "w1"),
        ("RW2", "2026-2027-2", "2026-2027", "100716", "2025100201", "230166", 72, "w2"),  # second term, same year; w2 before w9
        ("RW3", "2025-2026-2", "2025-2026", "100101", "2025100201", "230216", None, "w3"),
    ]  # fmt: skip
