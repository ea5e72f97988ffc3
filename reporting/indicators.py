"""Core indicators (教发〔2004〕2号 and 双师素质) computed from the published national tables.

The definitions are data (reporting/indicators/*.yaml): inputs with their labels, constants, derived
figures and indicators, each a formula over the inputs, with thresholds per school type (合格, and
限制招生 where configured) and the source of every threshold. Formulas are plain arithmetic
(+ - * / and parentheses over input names and numbers), evaluated here without ``eval``.
"""

import ast
import json
import operator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from model.yamlfile import read_yaml
from warehouse import memo

DEFINITIONS = Path(__file__).parent / "indicators" / "jiaofa-2004-2.yaml"
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
COMPARE = {">=": operator.ge, "<=": operator.le}


class IndicatorError(ValueError):
    pass


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr

    @classmethod
    def parse(cls, text: str, where: str) -> "Formula":
        try:
            tree = ast.parse(str(text), mode="eval").body
        except SyntaxError as e:
            raise IndicatorError(f"{where}: formula {text!r} does not parse: {e.msg}") from None
        for node in ast.walk(tree):
            if not isinstance(node, (ast.BinOp, ast.Name, ast.Constant, ast.Load, *_OPS)) or (
                isinstance(node, ast.Constant) and not isinstance(node.value, (int, float))
            ):
                raise IndicatorError(f"{where}: formula {text!r}: only + - * / ( ), numbers and input names")
        return cls(str(text), tree)

    def names(self) -> set[str]:
        return {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}

    def __call__(self, values: dict[str, float]) -> float | None:
        def ev(node):
            if isinstance(node, ast.Constant):
                return float(node.value)
            if isinstance(node, ast.Name):
                return values[node.id]
            left, right = ev(node.left), ev(node.right)
            if left is None or right is None or (isinstance(node.op, ast.Div) and right == 0):
                return None  # a missing input or an empty denominator: no value, not a crash
            return _OPS[type(node.op)](left, right)

        return ev(self.tree)


def load_definitions(path: Path = DEFINITIONS) -> dict:
    raw = read_yaml(path)
    known = set(raw["inputs"])
    for name in raw.get("constants") or {}:
        if name not in known:
            raise IndicatorError(f"{path}: constant {name!r} has no label under inputs")
    derived = []
    for d in raw.get("derived") or []:
        f = Formula.parse(d["formula"], f"{path}: derived {d['id']}")
        if f.names() - known:
            raise IndicatorError(f"{path}: derived {d['id']}: unknown name(s) {sorted(f.names() - known)}")
        known.add(d["id"])
        derived.append(d | {"formula": f})
    indicators = []
    for i in raw["indicators"]:
        f = Formula.parse(i["formula"], f"{path}: indicator {i['id']}")
        if f.names() - known:
            raise IndicatorError(f"{path}: indicator {i['id']}: unknown name(s) {sorted(f.names() - known)}")
        if i["compare"] not in COMPARE:
            raise IndicatorError(f"{path}: indicator {i['id']}: compare must be >= or <=")
        indicators.append(i | {"formula": f})
    return raw | {"derived": derived, "indicators": indicators, "path": Path(path)}


def _threshold(table: dict | None, school_type: str):
    table = table or {}
    value = table.get(school_type, table.get("*"))
    return None if value is None else float(value)


def evaluate(inputs: dict[str, float | None], defs: dict, school_type: str | None = None) -> list[dict]:
    """The indicators for one year's inputs: value, thresholds and verdicts, in the definitions' order."""
    school_type = school_type or defs["default_school_type"]
    if school_type not in defs["school_types"]:
        raise IndicatorError(f"school type {school_type!r} is not one of {', '.join(defs['school_types'])}")
    values = {k: (None if v is None else float(v)) for k, v in inputs.items()}
    values |= {k: float(v) for k, v in (defs.get("constants") or {}).items() if k not in inputs}
    missing = set(defs["inputs"]) - set(values)
    if missing:
        raise IndicatorError(f"inputs missing from platform.indicator_input: {sorted(missing)}")
    labels = dict(defs["inputs"])
    for d in defs["derived"]:
        values[d["id"]] = d["formula"](values)
        labels[d["id"]] = d["name"]
    out = []
    for seq, i in enumerate(defs["indicators"], start=1):
        raw = i["formula"](values)
        value = None if raw is None else round(raw, int(i.get("decimals", 2)))
        passing, limit = _threshold(i.get("pass"), school_type), _threshold(i.get("limit"), school_type)
        cmp = COMPARE[i["compare"]]

        def verdict(threshold, ok, bad):
            if threshold is None:
                return "—"
            return "无法计算" if value is None else (ok if cmp(value, threshold) else bad)

        used = sorted(i["formula"].names(), key=list(labels).index)
        out.append(
            dict(
                seq=seq,
                indicator_id=i["id"],
                name=i["name"],
                indicator_group=i["group"],
                value=value,
                unit=i.get("unit", ""),
                formula=i["formula"].text,
                inputs=json.dumps({labels[n]: values[n] for n in used}, ensure_ascii=False),
                compare=i["compare"],
                pass_threshold=passing,
                pass_result=verdict(passing, "合格", "不合格"),
                limit_threshold=limit,
                limit_result=verdict(limit, "未触及", "限制招生"),
                school_type=school_type,
                threshold_source=i.get("source", ""),
                document=defs["document"],
            )
        )
    return out


def build(con: duckdb.DuckDBPyConnection, academic_year: str, school_type: str | None = None, defs=None) -> int:
    """Replace platform.core_indicator for one academic year from platform.indicator_input."""
    defs = defs or load_definitions()
    inputs = dict(
        con.execute(
            "select input, value from platform.indicator_input where academic_year = ?", [academic_year]
        ).fetchall()
    )
    rows = evaluate(inputs, defs, school_type)
    memo.wrote("platform", "core_indicator")
    con.execute("begin")
    try:
        con.execute(
            """create table if not exists platform.core_indicator (
                academic_year varchar, seq integer, indicator_id varchar, name varchar, indicator_group varchar,
                value double, unit varchar, formula varchar, inputs varchar, compare varchar,
                pass_threshold double, pass_result varchar, limit_threshold double, limit_result varchar,
                school_type varchar, threshold_source varchar, document varchar)"""
        )
        con.execute("delete from platform.core_indicator where academic_year = ?", [academic_year])
        cols = list(rows[0])
        con.executemany(
            f"insert into platform.core_indicator (academic_year, {', '.join(cols)}) "
            f"values (?, {', '.join('?' * len(cols))})",
            [[academic_year, *r.values()] for r in rows],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        memo.forget()
        raise
    return len(rows)


def indicator_results(con: duckdb.DuckDBPyConnection, academic_year: str) -> list[dict]:
    """The year's core indicators with their verdicts, in the definitions' order."""
    rows = con.execute(
        "select name, value, unit, compare, pass_threshold, pass_result from platform.core_indicator "
        "where academic_year = ? order by seq",
        [academic_year],
    ).fetchall()
    return [dict(zip(("name", "value", "unit", "compare", "threshold", "result"), r)) for r in rows]
