"""The rules of the review: what an explanation or waiver covers, what a signature binds, the re-test after
every run, and what the submission package still lacks.

- An explanation names failing rows (identity and a hash of the failing value) or a tolerance. It covers a
  failing row only while that row fails with the same value; a row that changed, or a new failing row, is not
  covered. An approved waiver of an error rule whose every failing row it covers stops that rule from
  blocking the package, until it expires.
- A signature (上报确认书) binds the SHA-256 of its parts: each of the department's national tables (content),
  the latest result of each rule the department owns, and its accepted explanations. Any change to any part
  voids it, and the reason names the parts that changed.
- ``retest`` runs once per published snapshot: after a run, before a page shows anything, and before the
  package is judged.
"""

import hashlib
import json
from datetime import date

from django.db import transaction
from django.utils import timezone

from model.settings import Settings
from portal import auditlog, corrections, data
from portal.models import Correction, Department, Explanation, PortalState, SignOff

ACTIVE = (Explanation.SUBMITTED, Explanation.APPROVED)


def sha256_json(value) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def explanation_digest(e: Explanation) -> str:
    """What an accepted explanation says, as one hash (its rows, tolerance, reason, evidence, approval)."""
    return sha256_json(
        dict(
            rule=e.rule_id,
            rows=e.rows,
            tolerance=e.tolerance,
            reason=e.reason,
            evidence=sorted(e.evidence.values_list("sha256", flat=True)),
            expires=str(e.expires or ""),
            decided_by=e.decided_by.get_username() if e.decided_by else "",
        )
    )


def coverage(failing: dict[str, tuple[str, dict]], explanations: list[Explanation]) -> dict[str, Explanation]:
    """Failing row identity -> the approved explanation that covers it (rows not in the result are uncovered)."""
    out: dict[str, Explanation] = {}
    today = timezone.localdate()
    for e in explanations:
        if e.state != Explanation.APPROVED or (e.expires and e.expires < today):
            continue
        if e.tolerance is not None:
            if len(failing) <= e.tolerance:
                out.update({rid: e for rid in failing if rid not in out})
            continue
        for r in e.rows:
            if r["id"] in failing and failing[r["id"]][0] == r["hash"]:
                out.setdefault(r["id"], e)
    return out


def rule_state(con, academic_year: str, rule_id: str) -> dict:
    """A failing rule's rows, which are covered, and its explanations."""
    failing = data.failing_rows(con, academic_year, rule_id)
    expl = list(Explanation.objects.filter(academic_year=academic_year, rule_id=rule_id).select_related("decided_by"))
    covered = coverage(failing, expl)
    pending = {r["id"] for e in expl if e.state == Explanation.SUBMITTED for r in e.rows}
    return dict(failing=failing, covered=covered, pending=pending, explanations=expl)


def waived_rules(con, academic_year: str, rule_ids: list[str]) -> dict[str, list[Explanation]]:
    """Of the given failing error rules, those whose every failing row an approved, unexpired waiver covers."""
    out = {}
    for rule_id in rule_ids:
        st = rule_state(con, academic_year, rule_id)
        if st["failing"] and len(st["covered"]) == len(st["failing"]):
            out[rule_id] = sorted({e.id: e for e in st["covered"].values()}.values(), key=lambda e: e.id)
    return out


# --- signatures ---------------------------------------------------------------------------------------------


def signoff_parts(settings: Settings, con, academic_year: str, department: str) -> dict:
    """What a department's signature for the year binds, part by part."""
    results = data.results(con, academic_year)

    def result(rule_id: str) -> str:
        """passed or failed, how many rows, and which rows with which values (not the fingerprint of the tables
        the rule read: a reload of the same data changes that)."""
        r = results[rule_id]
        rows = sorted((k, h) for k, (h, _) in data.failing_rows(con, academic_year, rule_id).items())
        return f"{'passed' if r['passed'] else 'failed'}:{r['failing']}:{sha256_json(rows)[:16]}"

    return dict(
        tables={
            t.number: dict(name=t.name, sha256=data.table_sha256(con, t, academic_year))
            for t in data.tables_of(settings, academic_year, department)
        },
        rules={r.id: result(r.id) for r in data.rules(settings) if r.owner == department and r.id in results},
        explanations={
            str(e.id): explanation_digest(e)
            for e in Explanation.objects.filter(
                academic_year=academic_year, department__name=department, state=Explanation.APPROVED
            )
        },
    )


def what_changed(old: dict, new: dict) -> list[str]:
    """The parts of a signature that differ, in words."""
    out = []
    for number in sorted(set(old.get("tables", {})) | set(new.get("tables", {}))):
        a, b = old.get("tables", {}).get(number), new.get("tables", {}).get(number)
        if a is None:
            out.append(f"新增表 {number}")
        elif b is None:
            out.append(f"表 {number} 已不在本学年的表集中")
        elif a["sha256"] != b["sha256"]:
            out.append(f"表 {number} {a['name']} 的内容已变化")
    for rid in sorted(set(old.get("rules", {})) | set(new.get("rules", {}))):
        a, b = old.get("rules", {}).get(rid), new.get("rules", {}).get(rid)
        if a is None or b is None or a.split(":")[:2] != b.split(":")[:2]:
            out.append(f"规则 {rid} 的结果已变化（{_result_words(a)} → {_result_words(b)}）")
        elif a != b:
            out.append(f"规则 {rid} 的不合格行已变化（仍为 {_result_words(b)}）")
    oe, ne = old.get("explanations", {}), new.get("explanations", {})
    for eid in sorted(set(oe) | set(ne), key=int):
        if oe.get(eid) != ne.get(eid):
            out.append(f"情况说明 #{eid} " + ("已撤销或失效" if eid not in ne else "已新增或修改"))
    return out


def _result_words(code: str | None) -> str:
    if code is None:
        return "无结果"
    state, failing = code.split(":")[:2]
    return "通过" if state == "passed" else f"{failing} 行不合格"


def sign(settings: Settings, con, snapshot: str, academic_year: str, department: Department, user) -> SignOff:
    parts = signoff_parts(settings, con, academic_year, department.name)
    digest = sha256_json(parts)
    indicators = corrections.keep_signed(settings, con, academic_year, department.name, parts)
    with transaction.atomic():
        for old in SignOff.objects.filter(academic_year=academic_year, department=department, state=SignOff.VALID):
            _void(old, "同一部门重新签署，旧确认书作废", user)
        s = SignOff.objects.create(
            academic_year=academic_year,
            department=department,
            tables=[dict(number=k, name=v["name"], sha256=v["sha256"]) for k, v in parts["tables"].items()],
            content_sha256=digest,
            parts=parts,
            snapshot=snapshot,
            signed_by=user,
            indicators=indicators,
        )
        auditlog.record(user, "sign", f"确认书 #{s.id} {department.name} {academic_year}", digest,
                        tables=list(parts["tables"]), snapshot=snapshot)  # fmt: skip
    return s


def _void(s: SignOff, reason: str, user=None, changed: bool = False) -> None:
    s.state, s.void_reason, s.voided_at, s.needs_correction = SignOff.VOID, reason, timezone.now(), changed
    s.save(update_fields=["state", "void_reason", "voided_at", "needs_correction"])
    auditlog.record(user, "void_signoff", f"确认书 #{s.id} {s.department.name} {s.academic_year}",
                    s.content_sha256, reason=reason)  # fmt: skip


def correction_pending(academic_year: str, department: Department) -> SignOff | None:
    """The signature voided by a change that no completed 更正表 answers yet (signing again waits for it)."""
    last = SignOff.objects.filter(academic_year=academic_year, department=department).first()
    if last is None or not last.needs_correction:
        return None
    return None if any(c.complete for c in last.corrections.all()) else last


def check_signoff(settings: Settings, con, s: SignOff) -> list[str]:
    """What changed since the signature (empty: it still holds)."""
    now = signoff_parts(settings, con, s.academic_year, s.department.name)
    return [] if sha256_json(now) == s.content_sha256 else (what_changed(s.parts, now) or ["签署内容已变化"])


# --- the re-test after each run ---------------------------------------------------------------------------


def retest(settings: Settings, force: bool = False) -> dict | None:
    """Re-test every open explanation and valid signature against the newest snapshot, once per snapshot.
    Returns what changed ({snapshot, voided: [text], explanations: [text]}); None when no run has completed
    yet or this snapshot was already re-tested."""
    try:
        snap = data.latest(settings)
    except data.NoSnapshot:
        return None
    state, _ = PortalState.objects.get_or_create(key="tested_snapshot", defaults={"value": ""})
    if state.value == snap.name and not force:
        return None
    out = dict(snapshot=snap.name, voided=[], explanations=[])
    with transaction.atomic():
        today = timezone.localdate()
        for e in Explanation.objects.filter(state__in=ACTIVE).select_related("department"):
            note = _retest_explanation(snap, e, today)
            if note:
                out["explanations"].append(f"{e.department.name} {e.kind_label()} #{e.id} {e.rule_id}: {note}")
        for s in SignOff.objects.filter(state=SignOff.VALID).select_related("department"):
            changed = check_signoff(settings, snap.con, s)
            if changed:
                _void(s, "签署后数据已变化：" + "；".join(changed), changed=True)
                out["voided"].append(f"{s.department.name} 确认书 #{s.id}: {'；'.join(changed)}")
        state.value = snap.name
        state.save(update_fields=["value"])
    return out


def _retest_explanation(snap: data.Snapshot, e: Explanation, today: date) -> str:
    """Re-test one explanation; returns what changed in words, or ''."""
    failing = data.failing_rows(snap.con, e.academic_year, e.rule_id)
    new_state, note = None, ""
    if e.expires and e.expires < today:
        new_state, note = Explanation.EXPIRED, f"有效期至 {e.expires}，已过期"
    elif e.tolerance is not None:
        if len(failing) > e.tolerance:
            new_state, note = Explanation.REOPENED, f"不合格 {len(failing)} 行，超过容许的 {e.tolerance} 行"
    else:
        changed = [r for r in e.rows if r["id"] in failing and failing[r["id"]][0] != r["hash"]]
        still = [r for r in e.rows if r["id"] in failing]
        if changed:
            new_state, note = Explanation.REOPENED, f"{len(changed)} 行的值已变化，原说明不再适用"
        elif not still:
            new_state, note = Explanation.RESOLVED, "说明的行已不再不合格"
    e.tested_on = snap.name
    if new_state:
        e.state, e.state_note = new_state, note
        auditlog.record(None, "retest_explanation", f"情况说明 #{e.id} {e.rule_id}", sha256_json(e.rows),
                        state=new_state, note=note, snapshot=snap.name)  # fmt: skip
    e.save(update_fields=["state", "state_note", "tested_on"])
    return note if new_state else ""


# --- the package gate ---------------------------------------------------------------------------------------


def gate(settings: Settings, con, academic_year: str) -> list[tuple[str, str]]:
    """What the year's package still lacks on the portal's side: each department that owns a national table
    and has no signature that still holds (checked against ``con``, the data being packaged): (department,
    why)."""
    missing = []
    owners = sorted({data.owner(settings, t) for t in data.tables_of(settings, academic_year)})
    for dept in owners:
        valid = SignOff.objects.filter(academic_year=academic_year, department__name=dept, state=SignOff.VALID)
        s = valid.first()
        if s is None:
            missing.append((dept, f"未签署 {academic_year} 上报确认书"))
            continue
        changed = check_signoff(settings, con, s)
        if changed:
            missing.append((dept, f"确认书 #{s.id} 签署后数据已变化（{'；'.join(changed)}），需重新签署"))
    return missing


def manifest(settings: Settings, academic_year: str, waived: dict[str, list[Explanation]]) -> dict:
    """The package manifest's part about the review: the valid signatures, the waivers that let failing error
    rules through, the approved explanations of warnings, and every evidence file they cite (by SHA-256)."""
    signoffs = SignOff.objects.filter(academic_year=academic_year, state=SignOff.VALID).select_related(
        "department", "signed_by"
    )
    warnings = Explanation.objects.filter(academic_year=academic_year, severity="warning", state=Explanation.APPROVED)
    evidence: dict[str, dict] = {}

    def _cite(record) -> list[str]:
        files = list(record.evidence.all())
        evidence.update({f.sha256: dict(sha256=f.sha256, name=f.name, kind=f.kind, size=f.size) for f in files})
        return sorted(f.sha256 for f in files)

    def entry(e: Explanation) -> dict:
        return dict(
            id=e.id, rule=e.rule_id, department=e.department.name, rows=len(e.rows), tolerance=e.tolerance,
            reason=e.reason, approved_by=e.decided_by.get_username() if e.decided_by else None,
            expires=str(e.expires) if e.expires else None, evidence=_cite(e),
        )  # fmt: skip

    return dict(
        signoffs=sorted(
            (
                dict(
                    id=s.id,
                    department=s.department.name,
                    signed_by=s.signed_by.get_username(),
                    signed_at=s.signed_at.isoformat(),
                    sha256=s.content_sha256,
                    tables=[t["number"] for t in s.tables],
                )
                for s in signoffs
            ),
            key=lambda s: s["department"],
        ),  # fmt: skip
        waivers=[entry(e) for _, expl in sorted(waived.items()) for e in expl],
        explanations=[entry(e) for e in warnings.order_by("id").select_related("department", "decided_by")],
        corrections=[
            dict(
                id=c.id,
                department=c.department.name,
                signoff=c.signoff_id,
                changes=c.changes_total,
                indicators=c.indicators,
                sha256=c.content_sha256,
                signatures=c.signatures,
                evidence=_cite(c),
            )
            for c in Correction.objects.filter(academic_year=academic_year).order_by("id").select_related("department")
            if c.complete
        ],
        evidence=sorted(evidence.values(), key=lambda f: f["sha256"]),
    )
