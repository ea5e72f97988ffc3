"""Score the rule catalogue against the demo generator's defect manifest.

The demo campus injects documented defects and lists each in ``manifest.json`` (kind, system, vendor
table, key, column). A defect is caught when a failing row of a rule's latest evaluation, or a
quarantined row of the latest load, names that very source row (system, table and key; for a row
that could not be keyed, its row number). Recall is caught / injected. Every other failing row that
names a source row is a false positive; failures that name no row (a total that does not add up, an
indicator below standard) are listed apart, as they are consequences rather than rows.
"""

from collections import Counter
from pathlib import PurePath

import duckdb

from expectations.rules import Rule


def _failing_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every failing row of each rule's latest evaluation, per academic year."""
    return con.execute("""
        with latest as (
            select run_id, academic_year, rule_id from audit.rule_result
            qualify row_number() over (partition by rule_id, academic_year order by checked_at desc) = 1
        )
        select distinct f.rule_id, f.source_system, f.source_table, f.source_key, f.column_name, f.value
        from audit.rule_failure as f
        inner join latest as l using (run_id, academic_year, rule_id)
        order by all
    """).fetchall()


def _quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The quarantined rows of each entity's latest batch: (system, source, row key)."""
    return con.execute("""
        with latest as (
            select system, entity, max(batch_id) as batch_id from audit.load_log group by all
        )
        select q.system, q.source, q.row_key from audit.quarantine as q
        inner join latest as l using (system, entity, batch_id)
        where q.row_key is not null
    """).fetchall()


def _table(name: str | None) -> str:
    """A vendor table name, or a dropped file's name without its folder."""
    return PurePath(name or "").name


def score(con: duckdb.DuckDBPyConnection, manifest: dict, rules: list[Rule]) -> dict:
    severity = {r.id: r.severity for r in rules}
    failures = _failing_rows(con)
    by_row: dict[tuple, set[str]] = {}
    for rule_id, system, table, key, _, _ in failures:
        if key is None:
            continue
        for part in {key, *key.split("|")}:
            by_row.setdefault((system, _table(table), part), set()).add(rule_id)
    quarantined = {(system, source.split(".", 1)[-1], row_key) for system, source, row_key in _quarantined(con)}

    defects = []
    defect_rows = set()
    for d in manifest.get("defects", []):
        table = _table(d["table"])
        defect_rows |= {(d["system"], table, d["key"]), (d["system"], table, d.get("original_key"))}
        rules_hit = sorted(by_row.get((d["system"], table, d["key"]), set()))
        if not rules_hit and (d["system"], table, f"row {d['row']}") in quarantined:
            rules_hit = ["quarantine"]
        defects.append({**d, "caught_by": rules_hit})

    false_positives = []
    aggregate = Counter()
    for rule_id, system, table, key, column, value in failures:
        if key is None:
            aggregate[rule_id] += 1
        elif not any((system, _table(table), part) in defect_rows for part in {key, *key.split("|")}):
            false_positives.append(
                dict(
                    rule=rule_id,
                    severity=severity.get(rule_id),
                    system=system,
                    table=_table(table),
                    key=key,
                    column=column,
                )  # fmt: skip
            )

    kinds: dict[str, dict] = {}
    for d in defects:
        k = kinds.setdefault(d["kind"], {"kind": d["kind"], "injected": 0, "caught": 0, "rules": set()})
        k["injected"] += 1
        k["caught"] += bool(d["caught_by"])
        k["rules"] |= set(d["caught_by"])
    injected = len(defects)
    caught = sum(bool(d["caught_by"]) for d in defects)
    fired = [
        r[0]
        for r in con.execute("""
        select rule_id from audit.rule_result
        qualify row_number() over (partition by rule_id, academic_year order by checked_at desc) = 1
            and not passed
        order by rule_id
    """).fetchall()
    ]
    fired = sorted(set(fired))
    return {
        "clean": bool(manifest.get("clean")),
        "injected": injected,
        "caught": caught,
        "recall": round(caught / injected, 4) if injected else None,
        "kinds": [{**k, "rules": sorted(k["rules"])} for k in kinds.values()],
        "missed": [d for d in defects if not d["caught_by"]],
        "false_positives": false_positives,
        "false_positive_rows": len(false_positives),
        "error_rules_fired": [r for r in fired if severity.get(r) == "error"],
        "warning_rules_fired": [r for r in fired if severity.get(r) == "warning"],
        "aggregate_findings": dict(sorted(aggregate.items())),
    }
