"""Deterministic generator of the demo college's source systems.

Writes, under ``out_dir``:

* ``academic.sqlite``, ``hr.sqlite``, ``finance.sqlite``, ``assets.sqlite``, ``library.sqlite``:
  one SQLite database per campus system, with the vendor's own table names and JY/T 1006-style
  pinyin-initial column names;
* ``admissions/``: the admissions & employment office's file drop (xlsx per intake year, CSV in
  GBK per graduating class); ``office/``: the president's office school profile (xlsx);
* ``manifest.json``: every injected defect (system, table, key, column, kind) and the true counts a
  reviewer needs (full-time teachers and enrolled students on each 1 September, …).

The same ``GeneratorConfig`` always produces byte-identical databases and files.
"""

import csv
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from faker import Faker
from stdnum.cn import ric, uscc

from demo_campus import model as m
from demo_campus.defects import inject_defects
from model.codes import load_code_table
from model.mapping import load_mapping
from reporting.forms import form_department, form_file_name, write_form

SYSTEMS = ("academic", "hr", "finance", "assets", "library")
MAPPINGS_DIR = Path(__file__).parent / "college" / "mappings"


@dataclass
class GeneratorConfig:
    out_dir: Path
    scale: str = "small"
    year: int = 2026  # start year of the current academic year (2026 → 2026-2027)
    seed: int = 20260901
    clean: bool = False
    school_code: str = "4141099999"
    school_name: str = "示例职业技术学院"

    def __post_init__(self):
        if self.scale not in m.SCALES:
            raise ValueError(f"unknown scale {self.scale!r}; choose one of {', '.join(m.SCALES)}")
        self.out_dir = Path(self.out_dir)


@dataclass
class Campus:
    """The generated tables, keyed by system then vendor table name, before they are written."""

    tables: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    files: dict[str, pd.DataFrame] = field(default_factory=dict)  # relative path -> frame
    forms: list[tuple] = field(default_factory=list)  # (entity, academic year, rows, filled_by, filled_on)
    truth: dict = field(default_factory=dict)

    def put(self, system: str, table: str, frame: pd.DataFrame) -> None:
        self.tables.setdefault(system, {})[table] = frame


@cache
def _region_valid(region: str, year: int) -> bool:
    """Counties are created and merged over time; an ID number must use one that existed at birth."""
    body = f"{region}{year}0101001"
    return ric.is_valid(body + ric.calc_check_digit(body + "0"))


def _d(x: date | None) -> str | None:
    return None if x is None else x.isoformat()


class _Builder:
    def __init__(self, cfg: GeneratorConfig):
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(cfg.seed)
        self.sizes = m.SCALES[cfg.scale]
        self.Y = cfg.year
        self.years = [self.Y - 2, self.Y - 1, self.Y]  # academic years with full history
        self.cohorts = list(range(self.Y - 4, self.Y + 1))
        regions = [r["code"] for r in load_code_table("region")]
        self.local_regions = np.array([r for r in regions if r.startswith("41")])
        self.other_regions = np.array([r for r in regions if not r.startswith("41")])
        self.ethnicities = np.array(list(m.ETHNICITY_CODES))
        self.campus = Campus()

    # -- helpers -------------------------------------------------------------------------------
    def pick(self, values, n, p=None):
        return self.rng.choice(np.asarray(values, dtype=object), size=n, p=p)

    def dates_between(self, start: date, end: date, n: int) -> list[date]:
        days = (end - start).days
        offs = self.rng.integers(0, max(days, 1), size=n)
        return [start + timedelta(days=int(o)) for o in offs]

    def regions(self, n: int) -> np.ndarray:
        local = self.rng.random(n) < 0.72
        return np.where(local, self.pick(self.local_regions, n), self.pick(self.other_regions, n))

    def id_numbers(self, regions, births: list[date], genders: list[str]) -> list[str]:
        """Valid 18-digit ID numbers: birth date and sex encoded, region code valid in the birth year."""
        seq = self.rng.integers(0, 500, size=len(births)) * 2  # even; +1 for men
        out = []
        for region, birth, g, s in zip(regions, births, genders, seq):
            region = region if _region_valid(region, birth.year) else "110101"  # 北京市东城区, valid throughout
            body = f"{region}{birth:%Y%m%d}{int(s) + (1 if g == '1' else 0):03d}"
            out.append(body + ric.calc_check_digit(body + "0"))
        return out

    def names(self, genders) -> list[str]:
        return [self.fake.name_female() if g == "2" else self.fake.name_male() for g in genders]

    # -- campus --------------------------------------------------------------------------------
    def build(self) -> Campus:
        self.majors()
        self.staff()
        self.students()
        self.courses_and_plans()
        self.teaching_tasks()
        self.grades()
        self.finance()
        self.assets()
        self.library()
        self.files()
        self.truth()
        self.extras()
        return self.campus

    def majors(self):
        catalog = [dict(code=code, name=name) for code, name in m.MAJORS]
        rows, dirs = [], []
        for i, row in enumerate(catalog):
            dept = m.MAJOR_DEPT_BY_PREFIX[row["code"][:2]]
            zydm = f"{dept[-1]}{i + 1:03d}"
            opened = date(2005 + (i * 7) % 15, 6, 1)
            rows.append(
                dict(
                    ZYDM=zydm,
                    ZYMC=row["name"],
                    GJZYDM=row["code"],
                    SSXBDM=dept,
                    XZ=3,
                    PZSZRQ=_d(opened),
                    SCZSRQ=_d(date(opened.year, 9, 1)),
                    ZT="1",
                    GXSJ=f"{opened.year}-06-01 09:00:00",
                )
            )
            for code, name in m.DIRECTIONS.get(row["code"], []):
                dirs.append(dict(ZYDM=zydm, ZYFXDM=code, ZYFXMC=name, GXSJ=f"{opened.year}-06-01 09:00:00"))
        self.major_df = pd.DataFrame(rows)
        self.campus.put("academic", "JW_ZYXX", self.major_df)
        self.campus.put("academic", "JW_ZYFX", pd.DataFrame(dirs))

    def staff(self):
        n, Y = self.sizes["staff"], self.Y
        rng = self.rng
        post = self.pick([p for p, _ in m.POST_TYPES], n, p=[w for _, w in m.POST_TYPES])
        teaching = [d.code for d in m.DEPTS if d.kind == "JX"]
        share = np.array([0.3, 0.17, 0.2, 0.1, 0.13, 0.1])
        admin = [d.code for d in m.DEPTS if d.kind == "DZ"]
        support = [d.code for d in m.DEPTS if d.kind == "JF"]
        dept = np.where(
            post == "ZR",
            self.pick(teaching, n, p=share),
            np.where(post == "XZ", self.pick(admin, n), self.pick(support, n)),
        )
        genders = self.pick(["1", "2"], n, p=[0.48, 0.52])
        births = self.dates_between(date(1964, 1, 1), date(Y - 24, 12, 31), n)
        hires = []
        for b in births:
            start = max(date(b.year + 23, 7, 1), date(1992, 7, 1))
            hires.append(self.dates_between(start, date(Y, 11, 1), 1)[0] if start < date(Y, 11, 1) else start)
        leaves = []
        for b, h in zip(births, hires):
            retire = date(b.year + 60, b.month, 1)
            if retire <= date(Y, 8, 31) and retire > h:
                leaves.append(retire)
            elif rng.random() < 0.07 and h < date(Y - 1, 1, 1):
                leaves.append(self.dates_between(max(h, date(Y - 5, 1, 1)) + timedelta(days=200), date(Y, 10, 1), 1)[0])
            else:
                leaves.append(None)
        edu = np.where(
            post == "ZR",
            self.pick(["11", "14", "21"], n, p=[0.1, 0.55, 0.35]),
            self.pick(["14", "21", "31", "61"], n, p=[0.2, 0.5, 0.2, 0.1]),
        )
        degree = np.array([{"11": "2", "14": "3", "21": "4"}.get(e) for e in edu], dtype=object)
        degree[(edu == "21") & (rng.random(n) < 0.08)] = None
        title = np.where(
            post == "ZR",
            self.pick(["011", "012", "013", "014"], n, p=[0.08, 0.27, 0.45, 0.2]),
            self.pick(
                ["083", "084", "133", "134", None], n, p=[0.15, 0.15, 0.1, 0.1, 0.5]
            ),  # GB/T 8561: 工程师 … 助理会计师
        )
        dual = np.where((post == "ZR") & (rng.random(n) < 0.58), "是", "否")
        regions = self.regions(n)
        ids = self.id_numbers(regions, births, list(genders))
        jgh = [f"{h.year % 100:02d}{i + 1:04d}" for i, h in enumerate(hires)]
        self.staff_df = pd.DataFrame(
            dict(
                JGH=jgh,
                XM=self.names(genders),
                XB=np.where(genders == "1", "男", "女"),
                CSRQ=[_d(b) for b in births],
                MZM=self.pick(self.ethnicities, n, p=self._eth_p()),
                SFZJH=ids,
                ZZMMM=self.pick(["01", "13", "03", "05"], n, p=[0.45, 0.45, 0.05, 0.05]),
                XLM=edu,
                XWM=degree,
                ZCM=title,
                GWLB=post,
                SFSSXJS=dual,
                SZBMDM=dept,
                CJGZRQ=[_d(h - timedelta(days=int(rng.integers(0, 2500)))) for h in hires],
                LXRQ=[_d(h) for h in hires],
                LZRQ=[_d(x) for x in leaves],
                GXSJ=[f"{(x or h).isoformat()} 10:00:00" for h, x in zip(hires, leaves)],
            )
        )
        self.campus.put("hr", "RS_JZGJBXX", self.staff_df)
        self.campus.put(
            "hr",
            "RS_JGXX",
            pd.DataFrame(
                [dict(JGDM=d.code, JGMC=d.name, JGLB=d.kind, SJJGDM=None, CLRQ="2003-06-01", ZT="1") for d in m.DEPTS]
            ),
        )
        # external teachers
        k = self.sizes["external"]
        g = self.pick(["1", "2"], k, p=[0.6, 0.4])
        b = self.dates_between(date(1966, 1, 1), date(Y - 26, 1, 1), k)
        starts = [date(int(y), 9, 1) for y in self.pick(list(range(Y - 3, Y + 1)), k)]
        ends = [date(s.year + int(d), 8, 31) for s, d in zip(starts, self.pick([1, 2, 3], k))]
        kind = self.pick(["兼职", "兼课"], k, p=[0.7, 0.3])
        self.external_df = pd.DataFrame(
            dict(
                WPJSBH=[f"W{i + 1:04d}" for i in range(k)],
                XM=self.names(g),
                XB=np.where(g == "1", "男", "女"),
                CSRQ=[_d(x) for x in b],
                SFZJH=self.id_numbers(self.regions(k), b, list(g)),
                LB=kind,
                GZDW=[self.fake.company() if kk == "兼职" else f"{self.fake.city_name()}职业技术学院" for kk in kind],
                ZW=self.pick(["工程师", "技术总监", "项目经理", "主管护师", "会计主管", "教师"], k),
                ZCM=self.pick(["082", "083", "012", "013", "232", "133"], k),  # 高级工程师, 工程师 … 副主任医师, 会计师
                XLM=self.pick(["14", "21", "31"], k),
                PRXBDM=self.pick(teaching[:5], k),
                PRKSRQ=[_d(s) for s in starts],
                PRJSRQ=[_d(e) for e in ends],
                GXSJ=[f"{s.isoformat()} 09:00:00" for s in starts],
            )
        )
        self.campus.put("hr", "RS_WPJS", self.external_df)

    def _eth_p(self):
        p = np.full(len(self.ethnicities), 0.05 / (len(self.ethnicities) - 1))
        p[0] = 0.95
        return p

    def students(self):
        rng, Y = self.rng, self.Y
        weights = np.array([m.MAJOR_WEIGHT.get(c, 1.0) for c in self.major_df.GJZYDM])
        weights /= weights.sum()
        frames, classes = [], []
        for c in self.cohorts:
            total = int(self.sizes["intake"] * (1 + 0.03 * (c - Y)))
            per_major = np.floor(weights * total).astype(int)
            for (zydm, gj), n in zip(self.major_df[["ZYDM", "GJZYDM"]].itertuples(index=False), per_major):
                female = rng.random(n) < m.FEMALE_SHARE.get(gj, 0.4)
                genders = np.where(female, "2", "1")
                births = self.dates_between(date(c - 20, 1, 1), date(c - 17, 8, 31), n)
                regions = self.regions(n)
                n_cls = max(1, -(-n // 45))
                cls = [f"{c}{zydm}{k + 1:02d}" for k in range(n_cls)]
                mname = self.major_df.loc[self.major_df.ZYDM == zydm, "ZYMC"].iloc[0]
                classes += [
                    dict(
                        BJDM=b,
                        BJMC=f"{mname}{c % 100}{k + 1}班",
                        ZYDM=zydm,
                        NJ=c,
                        SSXBDM=m.MAJOR_DEPT_BY_PREFIX[gj[:2]],
                        BZRGH=None,
                    )
                    for k, b in enumerate(cls)
                ]
                dirs = m.DIRECTIONS.get(gj)
                mode = self.pick(["1", "2", "3", "4"], n, p=[0.6, 0.25, 0.1, 0.05])
                # leaving: graduation on 30 June of the third year, or an earlier dropout
                drop = rng.random(n) < 0.04
                drop_dates = self.dates_between(date(c, 10, 1), date(c + 3, 5, 31), n)
                grad = date(c + 3, 6, 30)
                leave, status = [], []
                for i in range(n):
                    if drop[i] and drop_dates[i] <= date(Y, 11, 1):
                        leave.append(drop_dates[i])
                        status.append("03")
                    elif grad <= date(Y, 11, 1):
                        leave.append(grad)
                        status.append("04")
                    else:
                        leave.append(None)
                        status.append("02" if rng.random() < 0.01 else "01")
                frames.append(
                    pd.DataFrame(
                        dict(
                            XH=[f"{c}{zydm}{i + 1:04d}" for i in range(n)],
                            XM=self.names(genders),
                            XBM=genders,
                            MZM=self.pick(self.ethnicities, n, p=self._eth_p()),
                            SFZJH=self.id_numbers(regions, births, list(genders)),
                            CSRQ=[_d(b) for b in births],
                            ZZMMM=self.pick(["03", "13", "01"], n, p=[0.7, 0.28, 0.02]),
                            SYDM=regions,
                            RXRQ=f"{c}-09-01",
                            NJ=c,
                            XZ=3,
                            ZYDM=zydm,
                            ZYFXDM=self.pick([d for d, _ in dirs], n) if dirs else None,
                            BJDM=[cls[min(i // 45, n_cls - 1)] for i in range(n)],
                            XJZTM=status,
                            LXRQ=[_d(x) for x in leave],
                            ZSFS=mode,
                            SYLX=np.where(np.isin(mode, ["3", "4"]), "2", self.pick(["1", "3"], n, p=[0.95, 0.05])),
                            SFNCHK=np.where(rng.random(n) < 0.55, "1", "0"),
                            GXSJ=[f"{(x or date(c, 9, 1)).isoformat()} 08:00:00" for x in leave],
                        )
                    )
                )
        self.student_df = pd.concat(frames, ignore_index=True)
        self.class_df = pd.DataFrame(classes)
        self.campus.put("academic", "XJ_XSJBXX", self.student_df)
        self.campus.put("academic", "JW_BJXX", self.class_df)

    def courses_and_plans(self):
        rows = [
            dict(
                KCDM=f"GG{i + 1:03d}",
                KCMC=n,
                KCLX=t,
                KCXZ="1",
                ZXS=h,
                SJXS={"A": 0, "B": h // 2, "C": h}[t],
                XF=round(h / 16, 1),
                KKBMDM=m.PUBLIC_DEPT,
                SFHXKC="0",
            )
            for i, (n, t, h) in enumerate(m.PUBLIC_COURSES)
        ]
        plan = {}
        for zydm, gj in self.major_df[["ZYDM", "GJZYDM"]].itertuples(index=False):
            dept = m.MAJOR_DEPT_BY_PREFIX[gj[:2]]
            pool = m.DEPT_COURSE_POOL[dept]
            names = (
                list(self.pick(pool, 25)) if len(pool) < 25 else [pool[i] for i in self.rng.permutation(len(pool))[:25]]
            )
            codes = []
            for k, name in enumerate(names):
                kind = self.pick(["A", "B", "C"], 1, p=[0.3, 0.55, 0.15])[0]
                hours = int(self.pick([32, 48, 64, 72], 1)[0])
                core = "1" if 5 <= k < 12 else "0"
                code = f"{zydm}{k + 1:02d}"
                rows.append(
                    dict(
                        KCDM=code,
                        KCMC=name,
                        KCLX=kind,
                        KCXZ="3" if core == "1" else "2",
                        ZXS=hours,
                        SJXS={"A": 0, "B": hours // 2, "C": hours}[kind],
                        XF=round(hours / 16, 1),
                        KKBMDM=dept,
                        SFHXKC=core,
                    )
                )
                codes.append(code)
            n, t, h = m.INTERNSHIP_COURSE
            rows.append(
                dict(KCDM=f"{zydm}SX", KCMC=n, KCLX=t, KCXZ="4", ZXS=h, SJXS=h, XF=24.0, KKBMDM=dept, SFHXKC="0")
            )
            # term -> course codes: 3 public courses in terms 1-4, 5 major courses in terms 1-5, internship in 6
            terms = {t: [f"GG{(t - 1) * 3 + j + 1:03d}" for j in range(3)] if t <= 4 else [] for t in range(1, 7)}
            for t in range(1, 6):
                terms[t] += codes[(t - 1) * 5 : t * 5]
            terms[6] = [f"{zydm}SX"]
            plan[zydm] = terms
        self.course_df = pd.DataFrame(rows)
        self.plan = plan
        plan_rows = [
            dict(NJ=c, ZYDM=z, KCDM=k, KKXQ=t, KSFS="考试" if k[-2:] != "SX" else "考查")
            for c in self.cohorts
            for z, terms in plan.items()
            for t, ks in terms.items()
            for k in ks
        ]
        self.campus.put("academic", "JW_KCXX", self.course_df)
        self.campus.put("academic", "JW_JXJH", pd.DataFrame(plan_rows))

    def _active(self, df, start_col, end_col, on: date):
        s = pd.to_datetime(df[start_col]).dt.date
        e = pd.to_datetime(df[end_col]).dt.date
        return df[(s <= on) & (e.isna() | (e > on))]

    def teaching_tasks(self):
        rng = self.rng
        staff = self.staff_df
        rows, seq = [], 0
        for a in self.years:
            for term in (1, 2):
                on = date(a, 9, 1) if term == 1 else date(a + 1, 3, 1)
                act = self._active(staff, "LXRQ", "LZRQ", on)
                zr = {d: g.JGH.to_numpy() for d, g in act[act.GWLB == "ZR"].groupby("SZBMDM")}
                part = act[act.GWLB != "ZR"].JGH.to_numpy()[: max(3, len(act) // 25)]
                ext = self.external_df
                e_on = ext[(pd.to_datetime(ext.PRKSRQ).dt.date <= on) & (pd.to_datetime(ext.PRJSRQ).dt.date >= on)]
                ext_by = {d: g.WPJSBH.to_numpy() for d, g in e_on.groupby("PRXBDM")}
                for cls in self.class_df.itertuples(index=False):
                    t = (a - cls.NJ) * 2 + term
                    if not 1 <= t <= 6:
                        continue
                    dept = cls.SSXBDM
                    for k in self.plan[cls.ZYDM][t]:
                        seq += 1
                        r = rng.random()
                        if k.startswith("GG"):
                            teacher = rng.choice(zr[m.PUBLIC_DEPT])
                        elif r < 0.07 and len(part):
                            teacher = rng.choice(part)
                        elif r < 0.17 and dept in ext_by:
                            teacher = rng.choice(ext_by[dept])
                        else:
                            teacher = rng.choice(zr[dept])
                        rows.append(
                            dict(
                                RWBH=f"RW{a}{term}{seq:06d}",
                                XNXQ=f"{a}-{a + 1}-{term}",
                                KCDM=k,
                                BJDM=cls.BJDM,
                                JGH=str(teacher),
                            )
                        )
        tasks = pd.DataFrame(rows)
        tasks["XS"] = tasks.KCDM.map(self.course_df.set_index("KCDM").ZXS).astype("int64")
        self.task_df = tasks
        self.campus.put("academic", "JW_JXRW", tasks)

    def grades(self):
        rng = self.rng
        st = self.student_df
        leave = pd.to_datetime(st.LXRQ).dt.date
        frames = []
        for a in (self.Y - 3, self.Y - 2, self.Y - 1):  # the completed academic years
            for term in (1, 2):
                on = date(a, 10, 1) if term == 1 else date(a + 1, 4, 1)
                enrolled = st[(leave.isna() | (leave > on)) & (st.NJ <= a)]
                xnxq = f"{a}-{a + 1}-{term}"
                for (nj, zydm), g in enrolled.groupby(["NJ", "ZYDM"]):
                    t = (a - nj) * 2 + term
                    if not 1 <= t <= 6:
                        continue
                    courses = self.plan[zydm][t]
                    xh = np.repeat(g.XH.to_numpy(), len(courses))
                    kc = np.tile(np.array(courses, dtype=object), len(g))
                    frames.append(
                        pd.DataFrame(
                            dict(
                                XH=xh,
                                XNXQ=xnxq,
                                KCDM=kc,
                                ZPCJ=np.round(np.clip(rng.normal(76, 11, len(xh)), 0, 100), 1),
                            )
                        )
                    )
        self.campus.put("academic", "JW_XSCJ", pd.concat(frames, ignore_index=True))

    def finance(self):
        n = self.sizes["ledger"]
        rng = self.rng
        subj = m.LEDGER_SUBJECTS
        idx = rng.choice(len(subj), size=n, p=np.array([s[3] for s in subj]) / sum(s[3] for s in subj))
        years = rng.integers(self.Y - 3, self.Y + 1, size=n)
        months = np.where(years == self.Y, rng.integers(1, 9, size=n), rng.integers(1, 13, size=n))
        amount = np.round(rng.lognormal(9.5, 1.3, size=n), 2)
        order = np.lexsort((idx, months, years))
        rows = []
        for i, j in enumerate(order):
            code, name, side, _ = subj[idx[j]]
            y, mth = int(years[j]), int(months[j])
            rows.append(
                dict(
                    PZBH=f"{y}{mth:02d}-{i + 1:06d}",
                    FLXH=1,
                    KJND=y,
                    KJQJ=mth,
                    PZRQ=f"{y}-{mth:02d}-{int(rng.integers(1, 28)):02d}",
                    KMDM=code,
                    KMMC=name,
                    ZY=f"{name}{'确认' if side == 'C' else '列支'}",
                    JFJE=amount[j] if side == "D" else 0.0,
                    DFJE=amount[j] if side == "C" else 0.0,
                    BMDM="204",
                )
            )
        self.campus.put("finance", "CW_PZMX", pd.DataFrame(rows))

    def assets(self):
        n, Y, rng = self.sizes["equipment"], self.Y, self.rng
        kind = rng.integers(0, len(m.EQUIPMENT), size=n)
        lo = np.array([m.EQUIPMENT[k][2][0] for k in kind])
        hi = np.array([m.EQUIPMENT[k][2][1] for k in kind])
        price = np.round(lo + (hi - lo) * rng.random(n) ** 2, 2)
        bought = self.dates_between(date(Y - 14, 1, 1), date(Y, 10, 31), n)
        old = np.array([b < date(Y - 7, 1, 1) for b in bought])
        disposed = [
            self.dates_between(b + timedelta(days=1500), date(Y, 10, 31), 1)[0] if o and rng.random() < 0.35 else None
            for b, o in zip(bought, old)
        ]
        use = self.pick(["1", "2", "3", "4"], n, p=[0.72, 0.08, 0.15, 0.05])
        self.campus.put(
            "assets",
            "ZC_SBTZ",
            pd.DataFrame(
                dict(
                    ZCBH=[f"SB{b.year}{i + 1:07d}" for i, b in enumerate(bought)],
                    ZCMC=[m.EQUIPMENT[k][0] for k in kind],
                    FLDM=[m.EQUIPMENT[k][1] for k in kind],
                    DJ=price,
                    SL=1,
                    SYFX=use,
                    XZ=np.where([d is not None for d in disposed], "4", "1"),
                    GZRQ=[_d(b) for b in bought],
                    BFRQ=[_d(d) for d in disposed],
                    SYBMDM=self.pick([d.code for d in m.DEPTS], n),
                    GXSJ=[f"{(d or b).isoformat()} 15:00:00" for b, d in zip(bought, disposed)],
                )
            ),
        )
        k = self.sizes["buildings"]
        intake = self.sizes["intake"]
        uses = [u for u in m.BUILDING_USES]
        rows = []
        for i in range(k):
            u = uses[i % len(uses)]
            share = u[2] / sum(1 for j in range(k) if j % len(uses) == i % len(uses))
            area = round(intake * 3 * 32 * share * (0.85 + 0.3 * rng.random()), 2)
            rows.append(
                dict(
                    FWBH=f"FW{i + 1:04d}",
                    FWMC=f"{u[1].split('（')[0]}{i // len(uses) + 1}号楼",
                    FWYTDM=u[0],
                    JZMJ=area,
                    CQXS="1" if rng.random() < 0.92 else "2",
                    JCRQ=_d(date(2004 + i % 18, 8, 1)),
                    GXSJ=f"{2004 + i % 18}-08-01 12:00:00",
                )
            )
        self.campus.put("assets", "ZC_FWXX", pd.DataFrame(rows))
        land = [
            dict(TDBH=f"TD{i + 1:02d}", TDMC=f"{name}校区", MJ=mu, CQXS="1", QDRQ=qd)
            for i, (name, mu, qd) in enumerate(
                [
                    ("主", round(intake * 0.23, 1), "2003-05-01"),
                    ("东", round(intake * 0.09, 1), "2011-03-15"),
                    ("实训", round(intake * 0.03, 1), "2016-10-20"),
                ]
            )
        ]
        self.campus.put("assets", "ZC_TDXX", pd.DataFrame(land))

    def library(self):
        n, Y, rng = self.sizes["library"], self.Y, self.rng
        acq_days = rng.integers(0, (date(Y, 10, 31) - date(Y - 20, 1, 1)).days, size=n)
        acq = np.datetime64(date(Y - 20, 1, 1)) + acq_days.astype("timedelta64[D]")
        withdrawn = (rng.random(n) < 0.04) & (acq < np.datetime64(date(Y - 5, 1, 1)))
        wd = acq + (rng.integers(1500, 4000, size=n)).astype("timedelta64[D]")
        wd = np.where(wd > np.datetime64(date(Y, 10, 31)), np.datetime64(date(Y, 10, 31)), wd)
        topics = np.array(m.BOOK_TOPICS, dtype=object)[rng.integers(0, len(m.BOOK_TOPICS), n)]
        words = np.array(m.BOOK_WORDS, dtype=object)[rng.integers(0, len(m.BOOK_WORDS), n)]
        acq_s = np.datetime_as_string(acq, unit="D").astype(object)
        wd_s = np.where(withdrawn, np.datetime_as_string(wd, unit="D"), None).astype(object)
        self.campus.put(
            "library",
            "LIB_GCMX",
            pd.DataFrame(
                dict(
                    TSTM=np.char.add("T", np.char.zfill(np.arange(1, n + 1).astype(str), 9)).astype(object),
                    ZTM=topics + words,
                    FLH=np.array(m.LIBRARY_CLASSES, dtype=object)[rng.integers(0, len(m.LIBRARY_CLASSES), n)],
                    WXLX=np.where(rng.random(n) < 0.93, "01", "02").astype(object),
                    JG=np.round(rng.uniform(18, 128, n), 2),
                    RCRQ=acq_s,
                    ZXRQ=wd_s,
                )
            ),
        )
        self.campus.put(
            "library",
            "LIB_DZZY",
            pd.DataFrame(
                [
                    dict(ZYBH=f"DZ{i + 1:03d}", ZYMC=name, ZYLX=kind, SL=qty, DW=unit, GMND=Y - i % 3)
                    for i, (name, kind, qty, unit) in enumerate(
                        [
                            ("超星电子图书", "电子图书", 18 * n // 10, "册"),
                            ("中国知网期刊", "电子期刊", 8200, "种"),
                            ("万方学位论文", "学位论文", 420_000, "篇"),
                            ("职业教育专业教学资源库", "数据库", 1, "个"),
                            ("外文电子期刊", "电子期刊", 650, "种"),
                        ]
                    )
                ]
            ),
        )

    def files(self):
        cfg = self.cfg
        self.campus.files["office/学校基本信息.xlsx"] = pd.DataFrame(
            [
                {
                    "学校标识码": cfg.school_code,
                    "学校名称": cfg.school_name,
                    "所在省份": "河南省",
                    "所在城市": "郑州市",
                    "建校日期": "2003-06",
                    "举办者名称": "河南省教育厅",
                    "举办者性质": "地方",
                    "举办者级别": "省级",
                    "学校性质类别": "公办",
                    "校训": "明德 精技 笃行",
                    "通信地址": "河南省郑州市示例区职教路1号",
                    "邮政编码": "450000",
                    "学校网址": "https://www.example.edu.cn",
                    "填报负责人": "王建国",
                    "联系电话": "0371-60000000",
                }
            ]
        )
        st = self.student_df
        majors = self.major_df.set_index("ZYDM")
        for c in self.years:
            cohort = st[st.NJ == c]
            rows = []
            for i, (zydm, g) in enumerate(cohort.groupby("ZYDM")):
                plan = int(np.ceil(len(g) * 1.06 / 5) * 5)
                rows.append(
                    {
                        "序号": i + 1,
                        "专业代码": majors.loc[zydm, "GJZYDM"],
                        "专业名称": majors.loc[zydm, "ZYMC"],
                        "计划招生数": plan,
                        "实际录取数": len(g) + int(self.rng.integers(0, 8)),
                        "实际报到数": len(g),
                        "本省招生数": int((g.SYDM.str[:2] == "41").sum()),
                    }
                )
            self.campus.files[f"admissions/{c}年分专业招生计划执行情况.xlsx"] = pd.DataFrame(rows)
        for g_year in (self.Y - 1, self.Y):  # the cohorts generated that have graduated
            grads = st[(st.NJ == g_year - 3) & (st.XJZTM == "04")]
            dest = self.pick([d[0] for d in m.DESTINATIONS], len(grads), p=[d[2] for d in m.DESTINATIONS])
            names = dict((d[0], d[1]) for d in m.DESTINATIONS)
            employed = ~np.isin(dest, ["80", "70", "46"])
            credit = [self._credit_code() if e else "" for e in employed]
            self.campus.files[f"admissions/{g_year}届毕业生毕业去向.csv"] = pd.DataFrame(
                {
                    "学号": grads.XH.to_numpy(),
                    "姓名": grads.XM.to_numpy(),
                    "专业名称": grads.ZYDM.map(majors.ZYMC).to_numpy(),
                    "毕业去向代码": dest,
                    "毕业去向": [names[d] for d in dest],
                    "就业单位名称": [self.fake.company() if e else "" for e in employed],
                    "单位统一社会信用代码": credit,
                    "就业地区代码": np.where(employed, self.regions(len(grads)), ""),
                }
            )

    def extras(self):
        """Sources of the full national table set: leaders, major leaders, practice bases, finance
        detail subjects, a new building, and the department forms. They draw from a random stream of
        their own, so everything generated before them stays exactly as it was."""
        rng = np.random.default_rng(self.cfg.seed + 7)
        Y, staff = self.Y, self.staff_df
        first, last = date(self.years[0], 9, 1), date(Y, 9, 1)
        steady = staff[staff.JGH.isin(self._active(staff, "LXRQ", "LZRQ", first).JGH)]
        steady = steady[steady.JGH.isin(self._active(staff, "LXRQ", "LZRQ", last).JGH)]
        admins = steady[steady.GWLB == "XZ"].sort_values(["CSRQ", "JGH"])
        self.campus.put(
            "hr",
            "RS_LDXX",
            pd.DataFrame(
                [
                    dict(
                        JGH=sid, ZWMC=post, RZRQ=_d(date(int(rng.integers(Y - 9, Y - 2)), 7, 1)), MZRQ=None, FGGZ=duties
                    )
                    for (post, duties), sid in zip(m.LEADERS, admins.JGH)
                ]
            ),
        )
        zr = steady[steady.GWLB == "ZR"].sort_values("JGH")
        leader, head = [], []
        for dept in self.major_df.SSXBDM:
            pool = zr[zr.SZBMDM == dept]
            senior = pool[pool.ZCM.isin(["011", "012"])]
            leader.append(str(rng.choice((senior if len(senior) else pool).JGH.to_numpy())))
            head.append(str(rng.choice(pool.JGH.to_numpy())))
        self.major_df["ZYDTRGH"] = leader
        self.major_df["ZYFZRGH"] = head
        # practice bases: each teaching department's, housed in a lab building; teaching equipment belongs to one
        buildings = self.campus.tables["assets"]["ZC_FWXX"]
        labs = buildings[buildings.FWYTDM == "03"].FWBH.to_list()
        bases = []
        for dept, items in m.PRACTICE_BASES.items():
            for k, (name, stations, projects) in enumerate(items):
                bases.append(
                    dict(
                        JDBH=f"JD{dept}{k + 1:02d}",
                        JDMC=name,
                        SSBMDM=dept,
                        FWBH=labs[len(bases) % len(labs)],
                        JZMJ=round(stations * float(rng.uniform(4.5, 7.5)), 2),
                        PZRQ=_d(date(2008 + len(bases) % 12, 6, 1)),
                        GWS=stations,
                        SXXMS=projects,
                    )
                )
        self.campus.put("assets", "ZC_SXJD", pd.DataFrame(bases))
        eq = self.campus.tables["assets"]["ZC_SBTZ"]
        by_dept = {d: [b["JDBH"] for b in bases if b["SSBMDM"] == d] for d in m.PRACTICE_BASES}
        eq["SXJDBH"] = [
            str(rng.choice(by_dept[d])) if u == "1" and d in by_dept and rng.random() < 0.8 else None
            for u, d in zip(eq.SYFX, eq.SYBMDM)
        ]
        new = dict(FWBH=f"FW{len(buildings) + 1:04d}", FWMC="新建实训楼", FWYTDM="03", CQXS="1")
        new |= dict(JZMJ=round(self.sizes["intake"] * 1.6, 2), JCRQ=_d(date(Y, 3, 1)), GXSJ=f"{Y}-03-01 12:00:00")
        self.campus.put("assets", "ZC_FWXX", pd.concat([buildings, pd.DataFrame([new])], ignore_index=True))
        # finance: detail subjects below the vendor's first-level ones
        ledger = self.campus.tables["finance"]["CW_PZMX"]
        codes, names = ledger.KMDM.to_list(), ledger.KMMC.to_list()
        for i, code in enumerate(codes):
            detail = m.SUBJECT_DETAIL.get(code)
            if detail:
                suffix, name, _ = detail[rng.choice(len(detail), p=[d[2] for d in detail])]
                codes[i], names[i] = code + suffix, name
        ledger["KMDM"], ledger["KMMC"] = codes, names
        # off-campus internship bases, two to four per major
        ext = []
        for zydm in self.major_df.ZYDM:
            for _ in range(int(rng.integers(2, 5))):
                company = self.fake.company()
                ext.append(
                    dict(
                        JDBH=f"XW{len(ext) + 1:04d}",
                        JDMC=f"{company}实习基地",
                        YTDWMC=company,
                        TYSHXYDM=self._credit_code(),
                        JLRQ=_d(date(int(rng.integers(2012, Y - 1)), 5, 1)),
                        ZYDM=zydm,
                        KJNXSS=int(rng.integers(10, 80)),
                        SFYZS=str(rng.choice(["是", "否"])),
                        TYRQ=None,
                    )
                )
        self.campus.put("academic", "JW_XWSXJD", pd.DataFrame(ext))
        for a in self.years:
            self._forms(a, rng)

    def _forms(self, a: int, rng):
        """One filled workbook per department form for academic year a."""
        year = f"{a}-{a + 1}"
        intake = self.sizes["intake"]
        in_year = (date(a, 9, 1), date(a + 1, 8, 31))
        majors = self.major_df
        grads = self.student_df[(self.student_df.NJ == a - 2) & (self.student_df.XJZTM == "04")]
        per_major = grads.groupby("ZYDM").size()

        def when(n: int) -> list[date]:  # dates in the academic year, not after the demo's "today"
            return self.dates_between(in_year[0], min(in_year[1], date(self.Y, 10, 31)), n)

        rooms = int(3 * intake / 45 * 1.15)
        forms = {
            "it_facility": [
                dict(
                    classrooms=rooms,
                    multimedia_rooms=int(rooms * (0.78 + 0.04 * (a - self.Y + 2))),
                    multimedia_seats=int(rooms * 0.8) * 56,
                    language_lab_seats=60 * max(2, intake // 600),
                    reading_seats=int(3 * intake * 0.12),
                    internet_mbps=2000 + 1000 * (a - self.years[0]),
                    backbone_mbps=10000,
                    info_points=int(3 * intake * 1.6),
                    wireless="全覆盖",
                )
            ],
            "skill_centre": [
                dict(
                    centre_name="职业技能等级认定中心",
                    certificate=c,
                    level="四级/中级工",
                    approved_by="河南省人力资源和社会保障厅",
                    assessed=n,
                    certified=int(n * 0.86),
                )
                for c, n in (("电工", int(rng.integers(80, 200))), ("计算机程序设计员", int(rng.integers(60, 150))))
            ],
            "certificate": [
                dict(
                    catalog_code=gj,
                    major_name=name,
                    certificate=f"{name}{m.CERTIFICATES[k % 3]}",
                    level="中级",
                    issuer="教育部职业技能等级证书试点机构",
                    holders=int(per_major.get(zydm, 0) * float(rng.uniform(0.4, 0.8))),
                )
                for k, (zydm, gj, name) in enumerate(majors[["ZYDM", "GJZYDM", "ZYMC"]].itertuples(index=False))
            ],
            "cooperation": [
                dict(
                    catalog_code=gj,
                    company=self.fake.company(),
                    credit_code=self._credit_code(),
                    since=f"{int(rng.integers(2014, a + 1))}-09",
                    order_students=int(rng.integers(0, 45)),
                    joint_courses=int(rng.integers(0, 4)),
                    joint_textbooks=int(rng.integers(0, 3)),
                    interns=int(rng.integers(5, 40)),
                    hires=int(rng.integers(0, 15)),
                )
                for gj in majors.GJZYDM
                for _ in range(2)
            ],
            "regulation": [
                dict(title=t, doc_no=f"示职院〔{a}〕{k + 11}号", issued_on=when(1)[0], kind=kind)
                for k, (kind, t) in enumerate(m.REGULATIONS)
            ],
            "scholarship": [
                dict(
                    scheme=s,
                    kind=kind,
                    funder=funder,
                    recipients=n,
                    amount_10k=round(n * float(rng.uniform(0.05, 0.8)), 2),
                )
                for (s, kind, funder), n in zip(m.SCHOLARSHIPS, rng.integers(10, intake // 3, len(m.SCHOLARSHIPS)))
            ],
            "innovation": [
                dict(
                    title=m.INNOVATIONS[(a + i) % len(m.INNOVATIONS)],
                    started_on=when(1)[0],
                    summary="制定实施办法并全校推行",
                    effect="相关指标较上年明显改善",
                )
                for i in range(2)
            ],
            "donation": [
                dict(
                    donor=self.fake.company(),
                    donated_on=d,
                    kind=str(rng.choice(["资金", "设备"])),
                    amount_10k=round(float(rng.uniform(2, 60)), 2),
                    purpose="实训条件建设",
                )
                for d in when(3)
            ],
            "quality_project": [
                dict(
                    project=f"{majors.ZYMC.iloc[k % len(majors)]}{kind}",
                    kind=kind,
                    level=level,
                    leader=self.fake.name(),
                    approved_on=when(1)[0],
                    funding_10k=round(float(rng.uniform(5, 80)), 1),
                )
                for k, (kind, level) in enumerate(m.QUALITY_PROJECTS)
            ],
            "award": [
                dict(
                    kind=kind,
                    award=f"{award}{'（团体）' if kind == '学生获奖' else ''}",
                    level=level,
                    winner=self.cfg.school_name if kind == "学校获奖" else self.fake.name(),
                    grantor="教育厅",
                    awarded_on=when(1)[0],
                )
                for kind, award, level in m.AWARD_NAMES
            ],
        }
        for entity, rows in forms.items():
            self.campus.forms.append((entity, year, rows, min(date(a + 1, 9, 20), date(self.Y, 11, 1))))

    def _credit_code(self) -> str:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        body = (
            "91"
            + str(self.pick(self.local_regions, 1)[0])
            + "".join(alphabet[int(i)] for i in self.rng.integers(0, len(alphabet), 9))
        )
        return body + uscc.calc_check_digit(body)

    def truth(self):
        """Counts a careful reviewer would report, computed from the clean entities."""
        st, staff, ext, tasks = self.student_df, self.staff_df, self.external_df, self.task_df
        out = {}
        for a in self.years:
            on = date(a, 9, 1)
            enrolled = self._active(st, "RXRQ", "LXRQ", on)
            active = self._active(staff, "LXRQ", "LZRQ", on)
            year_tasks = tasks[tasks.XNXQ.str.startswith(f"{a}-{a + 1}")]
            teaching_ids = set(year_tasks.JGH)
            e_act = ext[
                (pd.to_datetime(ext.PRKSRQ).dt.date <= date(a + 1, 8, 31)) & (pd.to_datetime(ext.PRJSRQ).dt.date >= on)
            ]
            out[f"{a}-{a + 1}"] = {
                "stock_date": on.isoformat(),
                "enrolled_students": int(len(enrolled)),
                "full_time_teachers": int((active.GWLB == "ZR").sum()),
                "internal_part_time_teachers": int(
                    active[(active.GWLB != "ZR") & active.JGH.isin(teaching_ids)].shape[0]
                ),
                "external_part_time_teachers": int((e_act.LB == "兼职").sum()),
                "external_guest_teachers": int((e_act.LB == "兼课").sum()),
                "majors": int(len(self.major_df)),
                "courses": int(len(self.course_df)),
            }
        self.campus.truth = out


# -- writing ------------------------------------------------------------------------------------


def _write_sqlite(path: Path, tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    path.unlink(missing_ok=True)
    counts = {}
    with sqlite3.connect(path) as con:
        for name, df in tables.items():
            cols = list(df.columns)
            decl = ", ".join(f'"{c}" {_sqlite_type(df[c])}' for c in cols)
            con.execute(f'create table "{name}" ({decl})')  # identifiers come from the generator, not data
            rows = [
                tuple(None if (isinstance(v, float) and np.isnan(v)) else v for v in r)
                for r in df.astype(object).itertuples(index=False, name=None)
            ]
            con.executemany(f'insert into "{name}" values ({", ".join("?" * len(cols))})', rows)
            counts[name] = len(rows)
    return counts


def _sqlite_type(s: pd.Series) -> str:
    kind = pd.api.types.infer_dtype(s.dropna(), skipna=True)
    return {"integer": "INTEGER", "floating": "REAL", "mixed-integer-float": "REAL"}.get(kind, "TEXT")


def _write_xlsx(path: Path, df: pd.DataFrame, title: str) -> None:
    """A department's workbook: a title row, then the header, then the data (as people send them)."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Sheet1")
    bold = wb.add_format({"bold": True, "align": "center"})
    ws.merge_range(0, 0, 0, max(len(df.columns) - 1, 1), title, bold)
    ws.write_row(1, 0, list(df.columns), bold)
    for i, row in enumerate(df.astype(object).itertuples(index=False, name=None), start=2):
        ws.write_row(i, 0, [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in row])
    wb.close()


def generate(cfg: GeneratorConfig) -> dict:
    """Generate the demo campus into cfg.out_dir; return a summary with paths and counts."""
    campus = _Builder(cfg).build()
    manifest = (
        [] if cfg.clean else inject_defects(campus, np.random.default_rng(cfg.seed + 1), m.DEFECTS_PER_KIND[cfg.scale])
    )
    out = cfg.out_dir
    (out / "admissions").mkdir(parents=True, exist_ok=True)
    (out / "office").mkdir(parents=True, exist_ok=True)
    counts = {}
    forms = load_mapping(MAPPINGS_DIR / "forms.yaml")
    for entity, year, rows, filled_on in campus.forms:
        e = forms.entities[entity]
        rel = f"forms/{form_file_name(e, year)}"
        filler = m.FORM_FILLERS[form_department(forms, e)]
        write_form(out / rel, forms, e, year, cfg.school_name, rows, filled_by=filler, filled_on=filled_on)
        counts[rel] = len(rows)
    for system in SYSTEMS:
        for table, n in _write_sqlite(out / f"{system}.sqlite", campus.tables[system]).items():
            counts[f"{system}.{table}"] = n
    for rel, df in campus.files.items():
        path = out / rel
        if path.suffix == ".csv":
            with path.open("w", encoding="gbk", newline="") as f:  # the office's PCs save CSV in GBK
                w = csv.writer(f)
                w.writerow(df.columns)
                w.writerows(df.astype(object).itertuples(index=False, name=None))
        else:
            title = f"{cfg.school_name}{path.stem}"
            _write_xlsx(path, df, title)
        counts[rel] = len(df)
    summary = {
        "school_code": cfg.school_code,
        "school_name": cfg.school_name,
        "scale": cfg.scale,
        "academic_year": f"{cfg.year}-{cfg.year + 1}",
        "seed": cfg.seed,
        "clean": cfg.clean,
        "row_counts": counts,
        "truth": campus.truth,
        "defects": manifest,
    }
    (out / "manifest.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return summary
