"""The documented defects the demo generator injects, and the manifest it writes of them.

Each kind changes a few rows of one table in a way real campus data goes wrong. Every change is
recorded as ``{kind, system, table, key, column, value, description}`` so that the checks can be
scored against it (recall: every injected defect found; no false alarms on a ``--clean`` demo).

Defects never change whether a person or thing exists on the stock date, so the generator's true
counts (enrolled students, full-time teachers) stay what a correct pipeline must report.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

import numpy as np
import pandas as pd
from stdnum.cn import ric

KEYS = {  # primary key column of each vendor table (files: the column that identifies a row)
    "XJ_XSJBXX": "XH",
    "RS_JZGJBXX": "JGH",
    "JW_JXRW": "RWBH",
    "JW_KCXX": "KCDM",
    "JW_ZYXX": "ZYDM",
    "CW_PZMX": "PZBH",
    "ZC_SBTZ": "ZCBH",
    "LIB_GCMX": "TSTM",
    "employment": "学号",
}


@dataclass(frozen=True)
class Defect:
    kind: str
    category: str
    system: str
    table: str
    column: str
    description: str
    apply: Callable[[pd.DataFrame, np.ndarray, np.random.Generator], pd.DataFrame | None]
    eligible: Callable[[pd.DataFrame], pd.Series] | None = None  # rows that may be touched


def _setter(column, fn):
    """apply(): set ``column`` of the chosen rows to fn(row)."""

    def apply(df, idx, rng):
        df[column] = df[column].astype(object)
        for i in idx:
            df.at[i, column] = fn(df.loc[i], rng)

    return apply


def _duplicate(column, fn):
    """apply(): append copies of the chosen rows, with ``column`` changed by fn(row)."""

    def apply(df, idx, rng):
        dup = df.loc[idx].copy()
        dup[column] = [fn(r, rng) for _, r in dup.iterrows()]
        return pd.concat([df, dup], ignore_index=True)

    return apply


def _bad_checksum(row, rng):
    v = row["SFZJH"]
    good = v[-1]
    return v[:-1] + next(c for c in "0123456789X" if c != good)


def _shift_birth(row, rng):
    d = date.fromisoformat(row["CSRQ"])
    return d.replace(year=d.year + 1, day=min(d.day, 28)).isoformat()


def _old_birth_and_id(df, idx, rng):
    for i in idx:
        body = "110101" + "19310501" + df.at[i, "SFZJH"][14:17]  # a county code valid in 1931: only the age is wrong
        df.at[i, "CSRQ"] = "1931-05-01"
        df.at[i, "SFZJH"] = body + ric.calc_check_digit(body + "0")


def _leave_before_hire(df, idx, rng):
    for i in idx:
        df.at[i, "LZRQ"] = (date.fromisoformat(df.at[i, "LXRQ"]) - timedelta(days=30)).isoformat()


def _before(date_col):
    return lambda row, rng: (date.fromisoformat(row[date_col]) - timedelta(days=100)).isoformat()


def _left_long_ago(year):
    def f(df):
        lz = pd.to_datetime(df.LZRQ)
        return lz.notna() & (lz < pd.Timestamp(year - 3, 9, 1))

    return f


def catalogue(year: int) -> list[Defect]:
    not_zr = lambda df: df.GWLB != "ZR"  # noqa: E731
    return [
        Defect(
            "student_bad_id_checksum",
            "bad_id_checksum",
            "academic",
            "XJ_XSJBXX",
            "SFZJH",
            "身份证号校验位错误",
            _setter("SFZJH", _bad_checksum),
        ),
        Defect(
            "student_id_birth_mismatch",
            "id_birth_mismatch",
            "academic",
            "XJ_XSJBXX",
            "CSRQ",
            "出生日期与身份证号不一致",
            _setter("CSRQ", _shift_birth),
        ),
        Defect(
            "student_id_sex_mismatch",
            "id_sex_mismatch",
            "academic",
            "XJ_XSJBXX",
            "XBM",
            "性别与身份证号不一致",
            _setter("XBM", lambda r, g: "2" if r["XBM"] == "1" else "1"),
        ),
        Defect(
            "student_duplicate_id",
            "duplicate_key",
            "academic",
            "XJ_XSJBXX",
            "XH",
            "学号重复（同一学号两条记录）",
            _duplicate("XM", lambda r, g: r["XM"] + "（重）"),
        ),
        Defect(
            "student_unknown_major",
            "dangling_reference",
            "academic",
            "XJ_XSJBXX",
            "ZYDM",
            "学生所在专业不存在",
            _setter("ZYDM", lambda r, g: "9999"),
        ),
        Defect(
            "student_unknown_class",
            "dangling_reference",
            "academic",
            "XJ_XSJBXX",
            "BJDM",
            "学生所在班级不存在",
            _setter("BJDM", lambda r, g: r["BJDM"][:-2] + "99"),
        ),
        Defect(
            "student_gender_as_text",
            "nonstandard_code",
            "academic",
            "XJ_XSJBXX",
            "XBM",
            "性别码用了文字而不是国标码",
            _setter("XBM", lambda r, g: "男" if r["XBM"] == "1" else "女"),
        ),
        Defect(
            "student_ethnicity_as_name",
            "nonstandard_code",
            "academic",
            "XJ_XSJBXX",
            "MZM",
            "民族码用了名称而不是国标码",
            _setter("MZM", lambda r, g: "汉"),
        ),
        Defect(
            "student_impossible_birth_date",
            "impossible_date",
            "academic",
            "XJ_XSJBXX",
            "CSRQ",
            "出生日期不是合法日期",
            _setter("CSRQ", lambda r, g: r["CSRQ"][:4] + "-02-30"),
        ),
        Defect(
            "student_missing_name",
            "missing_required",
            "academic",
            "XJ_XSJBXX",
            "XM",
            "姓名为空",
            _setter("XM", lambda r, g: None),
        ),
        Defect(
            "task_unknown_teacher",
            "dangling_reference",
            "academic",
            "JW_JXRW",
            "JGH",
            "授课教师不在教工库中",
            _setter("JGH", lambda r, g: "99999"),
            eligible=lambda df: df.JGH.str.len() == 6,
        ),
        Defect(
            "task_unknown_course",
            "dangling_reference",
            "academic",
            "JW_JXRW",
            "KCDM",
            "授课课程不在课程库中",
            _setter("KCDM", lambda r, g: "KC9999"),
        ),
        Defect(
            "course_duplicate_code",
            "duplicate_key",
            "academic",
            "JW_KCXX",
            "KCDM",
            "课程代码重复",
            _duplicate("KCMC", lambda r, g: r["KCMC"] + "（新）"),
            eligible=lambda df: ~df.KCDM.str.startswith("GG"),
        ),
        Defect(
            "course_practice_hours_exceed_total",
            "inconsistent_hours",
            "academic",
            "JW_KCXX",
            "SJXS",
            "实践学时大于总学时",
            _setter("SJXS", lambda r, g: int(r["ZXS"]) + 16),
            eligible=lambda df: ~df.KCDM.str.startswith("GG"),
        ),
        Defect(
            "major_code_not_in_catalog",
            "nonstandard_code",
            "academic",
            "JW_ZYXX",
            "GJZYDM",
            "专业代码不在国家专业目录中",
            _setter("GJZYDM", lambda r, g: r["GJZYDM"][:4] + "99"),
        ),
        Defect(
            "staff_bad_id_checksum",
            "bad_id_checksum",
            "hr",
            "RS_JZGJBXX",
            "SFZJH",
            "身份证号校验位错误",
            _setter("SFZJH", _bad_checksum),
        ),
        Defect(
            "staff_duplicate_id",
            "duplicate_key",
            "hr",
            "RS_JZGJBXX",
            "JGH",
            "教工号重复",
            _duplicate("XM", lambda r, g: r["XM"] + "（重）"),
        ),
        Defect(
            "staff_leave_before_hire",
            "impossible_date",
            "hr",
            "RS_JZGJBXX",
            "LZRQ",
            "离校日期早于来校日期",
            _leave_before_hire,
            eligible=_left_long_ago(year),
        ),
        Defect(
            "staff_unknown_title_code",
            "nonstandard_code",
            "hr",
            "RS_JZGJBXX",
            "ZCM",
            "专业技术职务码不在GB/T 8561中",
            _setter("ZCM", lambda r, g: "0135"),
        ),
        Defect(
            "staff_age_out_of_range",
            "out_of_range",
            "hr",
            "RS_JZGJBXX",
            "CSRQ",
            "出生日期使年龄超过75岁",
            _old_birth_and_id,
            eligible=not_zr,
        ),
        Defect(
            "staff_unmapped_post_type",
            "untranslatable_code",
            "hr",
            "RS_JZGJBXX",
            "GWLB",
            "岗位类别码无法对应国家口径",
            _setter("GWLB", lambda r, g: "XZG"),
            eligible=not_zr,
        ),
        Defect(
            "ledger_negative_amount",
            "negative_amount",
            "finance",
            "CW_PZMX",
            "JFJE",
            "借方金额为负",
            _setter("JFJE", lambda r, g: -float(r["JFJE"])),
            eligible=lambda df: df.JFJE > 0,
        ),
        Defect(
            "ledger_unknown_subject",
            "nonstandard_code",
            "finance",
            "CW_PZMX",
            "KMDM",
            "会计科目不在科目表中",
            _setter("KMDM", lambda r, g: "9999"),
        ),
        Defect(
            "equipment_disposal_before_acquisition",
            "impossible_date",
            "assets",
            "ZC_SBTZ",
            "BFRQ",
            "报废日期早于购置日期",
            _setter("BFRQ", _before("GZRQ")),
        ),
        Defect(
            "equipment_negative_price",
            "negative_amount",
            "assets",
            "ZC_SBTZ",
            "DJ",
            "设备单价为负",
            _setter("DJ", lambda r, g: -float(r["DJ"])),
        ),
        Defect(
            "library_missing_barcode",
            "missing_key",
            "library",
            "LIB_GCMX",
            "TSTM",
            "图书条码为空（无法入库，应进入隔离区）",
            _setter("TSTM", lambda r, g: None),
        ),
        Defect(
            "library_withdrawal_before_acquisition",
            "impossible_date",
            "library",
            "LIB_GCMX",
            "ZXRQ",
            "注销日期早于入藏日期",
            _setter("ZXRQ", _before("RCRQ")),
        ),
        Defect(
            "employment_unknown_student",
            "dangling_reference",
            "admissions",
            "employment",
            "学号",
            "毕业去向中的学号不在学籍库中",
            _setter("学号", lambda r, g: "X" + r["学号"][1:]),
        ),
        Defect(
            "employment_bad_credit_code",
            "bad_credit_code",
            "admissions",
            "employment",
            "单位统一社会信用代码",
            "统一社会信用代码校验位错误",
            _setter(
                "单位统一社会信用代码",
                lambda r, g: r["单位统一社会信用代码"][:-1] + ("0" if r["单位统一社会信用代码"][-1] != "0" else "1"),
            ),
            eligible=lambda df: df["单位统一社会信用代码"].str.len() == 18,
        ),
    ]


def inject_defects(campus, rng: np.random.Generator, per_kind: int) -> list[dict]:
    """Apply every defect of the catalogue to ``per_kind`` rows each; return the manifest."""
    year = max(int(k[:4]) for k in campus.truth)
    manifest: list[dict] = []
    used: dict[tuple, set] = {}
    for d in catalogue(year):
        if d.system == "admissions":
            # the newest graduating class's CSV file
            rel = max(k for k in campus.files if k.endswith("毕业去向.csv"))
            df = campus.files[rel]
            table = rel
        else:
            df = campus.tables[d.system][d.table]
            table = d.table
        mask = d.eligible(df) if d.eligible else pd.Series(True, index=df.index)
        taken = used.setdefault((d.system, table), set())
        candidates = np.array([i for i in df.index[mask.to_numpy()] if i not in taken])
        if len(candidates) == 0:
            continue
        idx = np.sort(rng.choice(candidates, size=min(per_kind, len(candidates)), replace=False))
        taken.update(int(i) for i in idx)
        key_col = KEYS[d.table]
        keys = [df.at[i, key_col] for i in idx]
        result = d.apply(df, idx, rng)
        if result is not None:
            df = result
        if d.system == "admissions":
            campus.files[table] = df
        else:
            campus.tables[d.system][d.table] = df
        for i, k in zip(idx, keys):
            value = df.at[i, d.column]
            new_key = df.at[i, key_col]
            manifest.append(
                dict(
                    kind=d.kind,
                    category=d.category,
                    system=d.system,
                    table=table,
                    column=d.column,
                    key=None if new_key is None else str(new_key),
                    original_key=str(k),
                    row=int(i) + 1,
                    value=None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value),
                    description=d.description,
                )
            )
    return manifest
