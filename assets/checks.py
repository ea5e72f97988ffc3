"""Asset checks, built from catalogues (no copy-paste per table).

* load accounting (every raw asset): rows read = rows inserted + unchanged + quarantined for the
  entity's latest batch; a quarantined row is a WARN with example keys; a broken balance, or a whole
  file set aside (unreadable, wrong header …), an ERROR;
* key uniqueness (every national table of the template pack): one row per key per academic year;
* the rule catalogue (expectations/catalogue.yaml, evaluated by expectations/rules.py): one check per
  rule on the table it guards, every result and failing row recorded in the audit tables.

Each result carries evidence: counts, the tolerance, and up to 10 example keys (masked where
personal). The SQL behind the first two is expectations/integrity.py; the rules' is expectations/rules.py.
"""

from collections.abc import Callable

import dagster as dg
import duckdb

from assets.common import key
from assets.resources import StatedataResource
from expectations.integrity import duplicate_keys, last_load
from expectations.rules import (
    Rule,
    RuleResult,
    blocking_rules,
    evaluate_all,
    record,
    reused_results,
    rule_params,
    start_suites,
)
from model.canonical import Model
from model.mapping import SourceSpec, pii_fields, translations
from model.masking import mask
from model.years import current_academic_year, previous_year
from reporting.templates import TemplatePack, pack_for_year
from warehouse.fingerprint import Fingerprints

EXAMPLES = 10


def load_accounting_checks(specs: dict[str, SourceSpec]) -> dg.AssetChecksDefinition:
    entities = [(s, e) for s in specs.values() for e in s.entities.values()]
    check_specs = [
        dg.AssetCheckSpec(
            "load_accounting",
            asset=key("raw", s.table_name(e.name)),
            description="Rows read = rows loaded + rows quarantined (nothing lost).",
        )
        for s, e in entities
    ]

    @dg.multi_asset_check(specs=check_specs, name="raw_load_accounting")
    def _check(statedata: StatedataResource):
        with statedata.warehouse() as con:
            for s, e in entities:
                account = last_load(con, s.system, e.name, EXAMPLES)
                asset = key("raw", s.table_name(e.name))
                if account is None:
                    yield dg.AssetCheckResult(
                        asset_key=asset,
                        check_name="load_accounting",
                        passed=False,
                        metadata={"reason": "no batch loaded yet"},
                    )
                    continue
                a = account
                # a broken balance, or a whole file set aside, loses data: ERROR; quarantined rows: WARN
                yield dg.AssetCheckResult(
                    asset_key=asset,
                    check_name="load_accounting",
                    passed=a.balanced and a.rows_quarantined == 0 and a.files_rejected == 0,
                    severity=dg.AssetCheckSeverity.ERROR
                    if not a.balanced or a.files_rejected
                    else dg.AssetCheckSeverity.WARN,
                    metadata={
                        "batch_id": a.batch_id,
                        "rows_read": a.rows_read,
                        "rows_loaded": a.rows_inserted + a.rows_unchanged,
                        "rows_quarantined": a.rows_quarantined,
                        "files_rejected": a.files_rejected,
                        "tolerance": 0,
                        "examples": dg.MetadataValue.json([{"row": k, "reason": r} for k, r in a.examples]),
                    },
                )

    return _check


def _check_year(context: dg.AssetCheckExecutionContext) -> str:
    """The run's academic year (its partition), or the current one for an unpartitioned run."""
    return context.partition_key if context.has_partition_key else current_academic_year()


def key_unique_checks(packs: list[TemplatePack]) -> dg.AssetChecksDefinition:
    """One check per national table: one row per key per academic year. All of them run in one step
    (a step costs about 0.2 s of Dagster overhead; 40 tiny queries do not need 40 steps)."""
    tables = {}
    for pack in packs:
        for t in pack.tables:
            tables.setdefault((t.source_table, t.key, t.where), t)
    checks = {
        dg.AssetCheckKey(key("platform", t.source_table), f"key_unique{'__' + t.id if t.where else ''}"): t
        for t in tables.values()
    }
    specs = [
        dg.AssetCheckSpec(
            k.name,
            asset=k.asset_key,
            description=f"{t.number} {t.name}: one row per {' + '.join(t.key)} in an academic year.",
        )
        for k, t in checks.items()
    ]

    @dg.multi_asset_check(specs=specs, name="platform_key_unique", can_subset=True)
    def _check(context: dg.AssetCheckExecutionContext, statedata: StatedataResource):
        year = _check_year(context)
        pack_for_year(year)  # fails clearly when no template applies
        with statedata.warehouse() as con:
            for check_key in context.selected_asset_check_keys:
                yield _key_unique(con, check_key, checks[check_key], year)

    return _check


def _key_unique(con, check_key: dg.AssetCheckKey, t, year: str) -> dg.AssetCheckResult:
    dups = duplicate_keys(con, t, year, EXAMPLES)
    return dg.AssetCheckResult(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
        passed=not dups,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "academic_year": year,
            "duplicate_keys": len(dups),
            "tolerance": 0,
            "examples": dg.MetadataValue.json([mask("|".join(map(str, d[:-1]))) for d in dups]),
        },
    )


READY_CHECK = "submission_ready"


def rule_checks(rules: list[Rule], specs: dict[str, SourceSpec], model: Model) -> dg.AssetChecksDefinition:
    """The catalogue's rules, one asset check each on the table it guards (a staging table or a national
    table), all evaluated in one step: SQL rules one by one, GX suites one per staging table. Every
    evaluation and its full list of failures go to audit.rule_result / audit.rule_failure.

    One more check, ``submission_ready`` on platform.core_indicator, sums up the error rules. It is
    blocking, so the exports wait for this step and can mark a year whose error rules fail as a draft; it
    fails with WARN severity only, so the draft tables are still written for the reviewers."""
    translated = translations(specs)
    pii = pii_fields(specs, model)
    by_key: dict[dg.AssetCheckKey, list[Rule]] = {}
    for r in rules:  # one rule per check, but the generated rules of an entity share its model_rules check
        by_key.setdefault(dg.AssetCheckKey(key(*r.asset.split(".")), r.check_name), []).append(r)
    ready = dg.AssetCheckKey(key("platform", "core_indicator"), READY_CHECK)
    specs_ = [
        dg.AssetCheckSpec(k.name, asset=k.asset_key, description=_check_description(rs)) for k, rs in by_key.items()
    ] + [
        dg.AssetCheckSpec(
            READY_CHECK,
            asset=ready.asset_key,
            blocking=True,
            description="No error-severity rule fails for the academic year: the submission package may be built.",
        )
    ]

    @dg.multi_asset_check(specs=specs_, name="rules", can_subset=True)
    def _check(context: dg.AssetCheckExecutionContext, statedata: StatedataResource):
        year = _check_year(context)
        selected = [r for k in context.selected_asset_check_keys for r in by_key.get(k, [])]
        with statedata.warehouse() as con:
            params = rule_params(con, year, statedata.settings())
            applying = [r for r in selected if r.applies(year)]
            # a rule that does not apply to the year yields no result: Dagster shows its check as skipped,
            # never as passed, and the run summary counts it apart
            for rule in selected:
                if rule not in applying:
                    context.log.info(f"{rule.id} does not apply to {year}: not evaluated")
            prints = Fingerprints(con, year, previous_year(year))  # computed once for the rules and the gate
            # a result about tables that are as they were is kept (when the run may keep anything), not re-evaluated
            reused = reused_results(con, applying, year, prints) if statedata.reuse() else []
            kept = {r.rule.id for r in reused}
            if reused:
                context.log.info(f"{len(reused)} of {len(applying)} rules: the tables they examine are unchanged since "
                                 "their last evaluation, whose results are kept")  # fmt: skip
            due = [r for r in applying if r.id not in kept]
            fresh = evaluate_all(con, due, year, params, model, translated, prints)
            order = {r.id: i for i, r in enumerate(applying)}
            results = sorted(reused + fresh, key=lambda result: order[result.rule.id])
            record(con, context.run.run_id, results)
            grouped: dict[dg.AssetCheckKey, list[RuleResult]] = {}
            for result in results:
                check = dg.AssetCheckKey(key(*result.rule.asset.split(".")), result.rule.check_name)
                grouped.setdefault(check, []).append(result)
            for k, rs in grouped.items():
                yield _rule_result(k.asset_key, rs[0], pii) if len(by_key[k]) == 1 else _group_result(k, rs, pii)
            if ready in context.selected_asset_check_keys:
                blocking = blocking_rules(con, rules, year, prints)
                yield dg.AssetCheckResult(
                    asset_key=ready.asset_key,
                    check_name=READY_CHECK,
                    passed=not blocking,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "academic_year": year,
                        "blocking_rules": dg.MetadataValue.json(
                            [f"{r.id} {r.message}（{why}）" for r, why in blocking]
                        ),
                    },
                )

    return _check


def rules_ahead(rules: list[Rule], specs: dict[str, SourceSpec], model: Model) -> Callable:
    """What the canonical step starts for the rules step (assets/raw.py canonical_asset ``ready``): the GX suites
    that step will validate, as it will choose them (the rules that apply to the year, less those whose results it
    will keep), so that they are validated while the core and national tables are built."""
    translated = translations(specs)
    suited = [r for r in rules if r.expect]  # the tables they examine are final once the canonical step has run

    def start(con: duckdb.DuckDBPyConnection, statedata: StatedataResource, year: str) -> None:
        applying = [r for r in suited if r.applies(year)]
        prints = Fingerprints(con, year, previous_year(year))
        kept = {r.rule.id for r in reused_results(con, applying, year, prints)} if statedata.reuse() else set()
        due = [r for r in applying if r.id not in kept]
        start_suites(con, due, rule_params(con, year, statedata.settings()), model, translated, prints)

    return start


def _check_description(rules: list[Rule]) -> str:
    if len(rules) == 1:
        r = rules[0]
        return f"{r.id} [{r.dimension}·{r.severity}·{r.kind}] {r.message}"
    return "Rules generated from the canonical model (docs/model.md): " + "; ".join(
        f"{r.id} [{r.dimension}·{r.severity}] {r.message}" for r in rules
    )


def _group_result(k: dg.AssetCheckKey, results: list[RuleResult], pii: dict[str, str]) -> dg.AssetCheckResult:
    """One check for the generated rules of an entity: failed when one fails, ERROR when an error rule does."""
    failed = [r for r in results if not r.passed]
    examples = [
        f"{r.rule.id} {f['source_system'] or '-'}.{f['source_table'] or '-'} {f['source_key'] or '-'} "
        f"{f['column_name']}={mask(f['value'], pii.get(f['column_name']))}"
        for r in failed
        for f in r.failures[:EXAMPLES]
    ]
    return dg.AssetCheckResult(
        asset_key=k.asset_key,
        check_name=k.name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR
        if any(r.rule.severity == "error" for r in failed)
        else dg.AssetCheckSeverity.WARN,
        metadata={
            "academic_year": results[0].academic_year,
            "rules": dg.MetadataValue.json({r.rule.id: f"{r.failing}/{r.checked}" for r in results}),
            "failing_rules": dg.MetadataValue.json([r.rule.id for r in failed]),
            "kept": all(r.reused for r in results),
            "messages": dg.MetadataValue.json([f"{r.rule.id} {r.rule.message}: {r.rule.hint}" for r in failed]),
            "examples": dg.MetadataValue.json(examples),
        },
    )


def _rule_result(asset_key: dg.AssetKey, r: RuleResult, pii: dict[str, str]) -> dg.AssetCheckResult:
    examples = [
        f"{f['source_system'] or '-'}.{f['source_table'] or '-'} {f['source_key'] or '-'} "
        f"{f['column_name']}={mask(f['value'], pii.get(f['column_name']))}"
        for f in r.failures[:EXAMPLES]
    ]
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=r.rule.check_name,
        passed=r.passed,
        severity=dg.AssetCheckSeverity.ERROR if r.rule.severity == "error" else dg.AssetCheckSeverity.WARN,
        metadata={
            "rule": r.rule.id,
            "academic_year": r.academic_year,
            "failing": r.failing,
            "checked": r.checked,
            "tolerance": r.rule.tolerance,
            "kept": r.reused,  # the result of an earlier evaluation, the tables it examined unchanged since
            "dimension": r.rule.dimension,
            "evaluated_by": r.rule.kind,
            "owner": r.rule.owner,
            "message": r.rule.message,
            "hint": r.rule.hint,
            "examples": dg.MetadataValue.json(examples),
        },
    )
