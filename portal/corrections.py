"""数据采集更正表: after a signature was voided by a change, what changed (table, record, field, old → new)
between the data signed and the data now, and the effect on the core indicators.

At signing, each signed table's rows are kept (Parquet, named by the table's SHA-256, under
``<state>/signed/``) with the core indicators, so the difference can be drafted however many runs later."""

import os
from pathlib import Path

import pyarrow.parquet as pq

from model.masking import mask
from model.settings import Settings
from portal import data
from portal.config import state_dir

LIMIT = 500  # changes listed on one form (the count says how many there are in all)


def signed_dir(settings: Settings) -> Path:
    return state_dir(settings) / "signed"


def keep_signed(settings: Settings, con, academic_year: str, department: str, parts: dict) -> list[dict]:
    """Keep the rows of every table being signed; returns the core indicators as they are now."""
    folder = signed_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for t in data.tables_of(settings, academic_year, department):
        path = folder / f"{parts['tables'][t.number]['sha256']}.parquet"
        rows = data.table_rows(con, t, academic_year)
        if rows is not None and not path.exists():
            tmp = path.with_suffix(".partial")
            pq.write_table(rows, tmp)
            os.replace(tmp, path)
    return [dict(name=i["name"], value=i["value"], unit=i["unit"] or "") for i in data.indicators(con, academic_year)]


def _shown(value) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def draft(settings: Settings, con, signoff) -> tuple[list[dict], int, list[dict]]:
    """(changes, how many in all, indicator effects) between a signature's data and ``con``'s."""
    pii = data.pii(settings)
    templates = {t.number: t for t in data.tables_of(settings, signoff.academic_year, signoff.department.name)}
    changes: list[dict] = []
    total = 0
    for entry in signoff.tables:
        t = templates.get(entry["number"])
        if t is None or data.table_sha256(con, t, signoff.academic_year) == entry["sha256"]:
            continue
        path = signed_dir(settings) / f"{entry['sha256']}.parquet"
        old = pq.read_table(path).to_pylist() if path.exists() else []
        now = data.table_rows(con, t, signoff.academic_year)
        new = now.to_pylist() if now is not None else []

        def key(r, t=t):
            return "|".join(_shown(r.get(k)) for k in t.key)

        before, after = {key(r): r for r in old}, {key(r): r for r in new}
        for k in sorted(set(before) | set(after)):
            a, b = before.get(k), after.get(k)
            found = []
            if a is None:
                found.append(("整行", "（无此记录）", "新增"))
            elif b is None:
                found.append(("整行", "（有此记录）", "删除"))
            else:
                for c in t.columns:
                    if a.get(c.field) != b.get(c.field):
                        old_v, new_v = _shown(a.get(c.field)), _shown(b.get(c.field))
                        if pii.get(c.field):
                            old_v, new_v = mask(old_v, pii[c.field]), mask(new_v, pii[c.field])
                        found.append((c.header, old_v, new_v))
            for field, old_v, new_v in found:
                total += 1
                if len(changes) < LIMIT:
                    changes.append(dict(number=t.number, name=t.name, key=k, field=field, old=old_v, new=new_v))
    now_ind = {i["name"]: i for i in data.indicators(con, signoff.academic_year)}
    effects = []
    for i in signoff.indicators:
        n = now_ind.get(i["name"])
        new_value = n["value"] if n else None
        if _round(i["value"]) != _round(new_value):
            effects.append(dict(name=i["name"], old=_shown(_round(i["value"])), new=_shown(_round(new_value)),
                                unit=i["unit"]))  # fmt: skip
    return changes, total, effects


def _round(v):
    return None if v is None else round(float(v), 2)
