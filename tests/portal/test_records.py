"""What the portal records: the hash-chained audit log, evidence kept by content, explanations re-tested on
every run's data, signatures bound to content, and what the package still lacks."""

import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile


def _tamper(site, sql: str, *params):
    """Change the portal's database behind the portal's back, as someone with file access could."""
    from django.db import connection

    connection.close()
    with sqlite3.connect(site.home / "portal" / "portal.sqlite3") as db:
        db.execute(sql, params)


# --- audit log --------------------------------------------------------------------------------------------


def test_the_audit_log_detects_an_edited_a_deleted_and_a_removed_last_entry(site):
    from portal import auditlog
    from portal.models import AuditEntry

    made = [auditlog.record(site.users["quality"], "test", f"对象 {i}", "ab" * 32, n=i) for i in range(4)]
    assert auditlog.verify()[1] is None
    third = made[2]
    _tamper(site, "update portal_auditentry set target = ? where id = ?", "对象 被改", third.id)
    checked, problem = auditlog.verify()
    assert problem and f"第 {third.id} 条" in problem and "被修改" in problem
    _tamper(site, "update portal_auditentry set target = ? where id = ?", third.target, third.id)
    assert auditlog.verify()[1] is None  # put back exactly: whole again

    _tamper(site, "delete from portal_auditentry where id = ?", made[1].id)
    problem = auditlog.verify()[1]
    assert problem and f"第 {made[2].id} 条之前" in problem
    row = made[1]
    _tamper(site, "insert into portal_auditentry (id, at, username, action, target, data_sha256, detail, previous, "
            "chain) values (?, ?, ?, ?, ?, ?, ?, ?, ?)", row.id, row.at.strftime("%Y-%m-%d %H:%M:%S.%f"),
            row.username, row.action, row.target, row.data_sha256, '{"n": 1}', row.previous, row.chain)  # fmt: skip
    assert auditlog.verify()[1] is None

    _tamper(site, "delete from portal_auditentry where id = ?", made[3].id)  # the newest entry
    problem = auditlog.verify()[1]
    assert problem and "最后一条" in problem
    assert AuditEntry.objects.filter(id=made[3].id).count() == 0


# --- evidence -----------------------------------------------------------------------------------------------


def _docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("情况说明")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


def _xlsx() -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out)
    wb.add_worksheet().write(0, 0, "佐证")
    wb.close()
    return out.getvalue()


@pytest.mark.parametrize(
    "name, content, kind",
    [("说明.pdf", b"%PDF-1.7\n1 0 obj\n", "pdf"), ("照片.png", None, "png"), ("说明.docx", None, "docx"),
     ("台账.xlsx", None, "xlsx")],
)  # fmt: skip
def test_evidence_is_stored_by_its_content_hash_and_typed_by_its_content(site, name, content, kind):
    import hashlib

    from portal import evidence

    content = content or {"png": _png, "docx": _docx, "xlsx": _xlsx}[kind]()
    sha, found, size = evidence.store(SimpleUploadedFile(name, content))
    assert (sha, found, size) == (hashlib.sha256(content).hexdigest(), kind, len(content))
    assert evidence.path_of(sha).read_bytes() == content
    again = evidence.store(SimpleUploadedFile("另一个名字" + name[-5:], content))
    assert again[0] == sha and len(list(evidence.path_of(sha).parent.iterdir())) >= 1


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("说明.pdf", None, "与扩展名 .pdf 不符"),  # a PNG called .pdf
        ("page.html", b"<html><script>alert(1)</script></html>", "不是可接受的类型"),
        ("tool.exe", b"MZ\x90\x00" + b"\x00" * 60, "不是可接受的类型"),
        ("fake.docx", b"PK\x03\x04not really a zip", "不是可接受的类型"),
        ("../../../etc/passwd.pdf", b"plain text", "不是可接受的类型"),
    ],
)
def test_an_unacceptable_upload_is_refused_and_nothing_is_kept(site, name, content, expected):
    from portal import evidence

    root = site.home / "portal" / "evidence"
    before = sorted(p for p in root.rglob("*")) if root.exists() else []
    with pytest.raises(evidence.EvidenceError, match=expected):
        evidence.store(SimpleUploadedFile(name, content or _png()))
    assert (sorted(p for p in root.rglob("*")) if root.exists() else []) == before
    assert not (site.home.parent / "etc").exists()


def test_an_upload_over_the_limit_is_refused(site, settings_override=None):
    from django.test.utils import override_settings

    from portal import evidence

    with override_settings(PORTAL_UPLOAD_MAX_BYTES=1000):
        with pytest.raises(evidence.EvidenceError, match="超过上限"):
            evidence.store(SimpleUploadedFile("大.pdf", b"%PDF-1.4\n" + b"x" * 2000))


def test_an_office_zip_without_office_parts_is_not_an_office_file(site, tmp_path):
    from portal import evidence

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(evidence.EvidenceError):
        evidence.store(SimpleUploadedFile("x.docx", out.getvalue()))


# --- explanations, waivers and their re-test -----------------------------------------------------------------


def _explanation(site, rule, rows, state="approved", expires="2099-12-31", tolerance=None):
    from datetime import date

    from portal.models import Explanation

    return Explanation.objects.create(
        academic_year=site.year, rule_id=rule.id, severity=rule.severity, department=site.department(rule.owner),
        rows=rows, tolerance=tolerance, reason="数据属实", state=state, created_by=site.users["quality"],
        decided_by=site.users["quality"], expires=date.fromisoformat(expires) if expires else None,
    )  # fmt: skip


def test_a_waiver_covers_only_the_rows_and_values_it_names(site):
    from portal import data, review

    rule = site.rule_of(site.b)
    snap = data.latest(site.settings)
    failing = data.failing_rows(snap.con, site.year, rule.id)
    assert len(failing) >= 2  # the demo's defects give each error rule at least two rows
    ids = sorted(failing)
    all_rows = [{"id": i, "hash": failing[i][0], "label": i} for i in ids]
    partial = _explanation(site, rule, all_rows[:1])
    assert review.waived_rules(snap.con, site.year, [rule.id]) == {}  # one row of several: still blocks
    stale = _explanation(site, rule, [dict(all_rows[1], hash="0" * 24)])  # named when the value was another
    assert review.waived_rules(snap.con, site.year, [rule.id]) == {}
    whole = _explanation(site, rule, all_rows[1:])
    assert review.waived_rules(snap.con, site.year, [rule.id]) == {rule.id: [partial, whole]}
    expired = _explanation(site, rule, all_rows, expires="2020-01-01")
    for e in (partial, whole, stale):
        e.delete()
    assert review.waived_rules(snap.con, site.year, [rule.id]) == {}  # an expired waiver covers nothing
    expired.delete()
    tolerance = _explanation(site, rule, [], tolerance=len(failing))
    assert review.waived_rules(snap.con, site.year, [rule.id]) == {rule.id: [tolerance]}
    tolerance.tolerance = len(failing) - 1
    tolerance.save()
    assert review.waived_rules(snap.con, site.year, [rule.id]) == {}
    tolerance.delete()


def test_the_re_test_reopens_a_changed_row_resolves_a_gone_one_and_expires_an_old_waiver(site):
    from portal import data, review
    from portal.models import AuditEntry, Explanation

    rule = site.rule_of(site.b)
    snap = data.latest(site.settings)
    failing = data.failing_rows(snap.con, site.year, rule.id)
    rid = sorted(failing)[0]
    holds = _explanation(site, rule, [{"id": rid, "hash": failing[rid][0], "label": "x"}])
    changed = _explanation(site, rule, [{"id": rid, "hash": "f" * 24, "label": "x"}])  # the value it named
    gone = _explanation(site, rule, [{"id": "hr|NO_SUCH|1|x", "hash": "0" * 24, "label": "x"}], state="submitted")
    old = _explanation(site, rule, [{"id": rid, "hash": failing[rid][0], "label": "x"}])
    old.expires = old.expires.replace(year=2020)
    old.save()
    logged = AuditEntry.objects.count()
    result = review.retest(site.settings, force=True)
    states = {e.pk: (e.state, e.state_note) for e in Explanation.objects.filter(pk__in=[holds.pk, changed.pk,
                                                                                      gone.pk, old.pk])}  # fmt: skip
    assert states[holds.pk][0] == Explanation.APPROVED
    assert states[changed.pk] == (Explanation.REOPENED, "1 行的值已变化，原说明不再适用")
    assert states[gone.pk][0] == Explanation.RESOLVED
    assert states[old.pk][0] == Explanation.EXPIRED
    mine = [line for line in result["explanations"] if any(f"#{e.pk} " in line for e in (changed, gone, old))]
    assert len(mine) == 3 and AuditEntry.objects.count() >= logged + 3
    assert not any(f"#{holds.pk} " in line for line in result["explanations"])
    for e in (holds, changed, gone, old):
        e.delete()


# --- signatures ---------------------------------------------------------------------------------------------


def test_a_signature_binds_the_tables_rules_and_explanations_and_names_what_changed(site):
    from portal import data, review
    from portal.models import SignOff

    snap = data.latest(site.settings)
    dept = site.department(site.b)
    s = review.sign(site.settings, snap.con, snap.name, site.year, dept, site.users["head_b"])
    tables = data.tables_of(site.settings, site.year, site.b)
    assert [t["number"] for t in s.tables] == [t.number for t in tables] and len(s.content_sha256) == 64
    assert review.check_signoff(site.settings, snap.con, s) == []
    # an accepted explanation is part of what was signed
    rule = site.rule_of(site.b)
    e = _explanation(site, rule, [])
    assert review.check_signoff(site.settings, snap.con, s) == [f"情况说明 #{e.pk} 已新增或修改"]
    e.delete()
    # signing again voids the earlier signature
    again = review.sign(site.settings, snap.con, snap.name, site.year, dept, site.users["head_b"])
    assert SignOff.objects.get(pk=s.pk).state == SignOff.VOID and again.state == SignOff.VALID
    # the words for a changed table and a changed rule result
    changed = dict(again.parts, tables={k: dict(v, sha256="x") for k, v in again.parts["tables"].items()})
    first = next(iter(again.parts["tables"]))
    words = review.what_changed(again.parts, changed)
    assert f"表 {first} {again.parts['tables'][first]['name']} 的内容已变化" in words
    rid = rule.id  # a failing rule, now passing
    flipped = dict(again.parts, rules=dict(again.parts["rules"], **{rid: "passed:0:x"}))
    words = review.what_changed(again.parts, flipped)
    assert words == [f"规则 {rid} 的结果已变化（{again.parts['rules'][rid].split(':')[1]} 行不合格 → 通过）"]


def test_the_gate_names_every_owning_department_without_a_valid_signature(site):
    from portal import data, review

    snap = data.latest(site.settings)
    owners = sorted({data.owner(site.settings, t) for t in data.tables_of(site.settings, site.year)})
    missing = dict(review.gate(site.settings, snap.con, site.year))
    signed = {s for s in owners if s not in missing}
    assert set(missing) | signed == set(owners) and all("上报确认书" in w for w in missing.values())
    for dept in owners:
        if dept in missing:
            review.sign(site.settings, snap.con, snap.name, site.year, site.department(dept), site.users["quality"])
    assert review.gate(site.settings, snap.con, site.year) == []


def test_an_explanation_may_name_a_tolerance_instead_of_rows(site):
    from portal.models import Explanation

    rule = site.rule_of(site.a)
    dept = site.department(site.a)
    url = f"/dept/{dept.pk}/rule/{rule.id}/explain/"
    res = site.client("collector_a").post(url, {"year": site.year, "tolerance": "3", "reason": "历史遗留，逐步清理"})
    assert res.status_code == 302
    e = Explanation.objects.filter(rule_id=rule.id, department=dept).order_by("-id").first()
    assert e.tolerance == 3 and e.rows == [] and e.state == Explanation.SUBMITTED
    bad = site.client("collector_a").post(url, {"year": site.year, "tolerance": "0", "reason": "零行"})
    assert bad.status_code == 200 and Explanation.objects.filter(rule_id=rule.id, reason="零行").count() == 0
    e.delete()


def test_nobody_approves_their_own_explanation(site):
    from portal.models import Explanation

    rule = site.rule_of(site.a, "warning")
    e = Explanation.objects.create(academic_year=site.year, rule_id=rule.id, severity="warning",
                                   department=site.department(site.a), rows=[], tolerance=1, reason="属实",
                                   created_by=site.users["head_a"])  # fmt: skip
    res = site.client("head_a").post(f"/explanation/{e.pk}/decide/", {"verdict": "approve"}, follow=True)
    assert "不能批准自己提交的说明" in res.content.decode()
    assert Explanation.objects.get(pk=e.pk).state == Explanation.SUBMITTED
    site.client("quality").post(f"/explanation/{e.pk}/decide/", {"verdict": "approve"})
    assert Explanation.objects.get(pk=e.pk).state == Explanation.APPROVED
    e.delete()


def test_a_filled_department_form_goes_into_the_drop_under_the_name_the_mapping_reads(site, tmp_path):
    import hashlib

    from portal import data
    from portal.models import AuditEntry
    from portal.users import add_user
    from reporting.forms import form_file_name, write_form
    from tests.portal.conftest import PASSWORD

    dept = next(d for d in data.departments(site.settings, site.year) if data.forms_of(site.settings, d))
    spec, name = data.forms_of(site.settings, dept)[0]
    add_user("form_clerk", PASSWORD, "collector", dept)
    clerk = site.client(None)
    clerk.login(username="form_clerk", password=PASSWORD)
    filled = write_form(tmp_path / "filled.xlsx", spec, spec.entities[name], site.year, "测试学院")
    target = Path(site.settings.source_location(spec)) / form_file_name(spec.entities[name], site.year)
    assert target.parent.is_relative_to(site.home)  # the site's own copy of the demo's drop
    before = target.read_bytes() if target.exists() else None
    d = site.department(dept)
    with filled.open("rb") as f:
        res = clerk.post(f"/dept/{d.pk}/form/", {"year": site.year, "form_key": f"{spec.system}/{name}", "form": f})
    assert res.status_code == 302 and target.read_bytes() == filled.read_bytes()
    if before is not None:  # the file it replaced is kept, under a name the drop does not read
        (kept,) = [p for p in target.parent.glob(target.name + ".replaced-*")]
        assert kept.read_bytes() == before
    entry = AuditEntry.objects.filter(action="upload_form").order_by("-id").first()
    assert entry.data_sha256 == hashlib.sha256(filled.read_bytes()).hexdigest() and entry.username == "form_clerk"
    with (tmp_path / "p.pdf").open("wb") as f:
        f.write(b"%PDF-1.4 not a workbook")
    with (tmp_path / "p.pdf").open("rb") as f:
        refused = clerk.post(f"/dept/{d.pk}/form/", {"year": site.year, "form_key": f"{spec.system}/{name}", "form": f},
                             follow=True)  # fmt: skip
    assert "不是 Excel 工作簿" in refused.content.decode() and target.read_bytes() == filled.read_bytes()
    other = next(x for x in data.departments(site.settings, site.year) if x != dept)
    outsider = site.client(None)
    add_user("form_outsider", PASSWORD, "collector", other)
    outsider.login(username="form_outsider", password=PASSWORD)
    with filled.open("rb") as f:
        assert outsider.post(f"/dept/{d.pk}/form/", {"year": site.year, "form_key": f"{spec.system}/{name}",
                                                     "form": f}).status_code == 403  # fmt: skip


def test_the_audit_log_pages_back_to_the_first_entry_and_filters_by_user_and_action(site):
    from portal import auditlog
    from portal.models import AuditEntry

    for i in range(5):
        auditlog.record(site.users["auditor"], "page_test", f"对象 {i}")
    for i in range(max(0, 201 - AuditEntry.objects.count())):  # at least two pages
        auditlog.record(site.users["quality"], "filler", f"填充 {i}")
    total = AuditEntry.objects.count()
    client = site.client("auditor")
    last = (total + 199) // 200
    assert last >= 2
    oldest = client.get("/audit/", {"page": last}).content.decode()
    first = AuditEntry.objects.order_by("id").first()
    assert f"第 {last} / {last} 页，共 {total} 条" in oldest and f"<td>{first.pk}</td>" in oldest
    mine = client.get("/audit/", {"user": "auditor", "action": "page_test"}).content.decode()
    assert "共 5 条" in mine and "对象 4" in mine and "对象 0" in mine
