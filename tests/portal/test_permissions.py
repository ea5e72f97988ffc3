"""Every page and action of the portal, for every role, including another department's objects by direct URL.
The expected rights are written out here, from the issue's description of the roles, not read from
portal/access.py."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.portal.conftest import PASSWORD

ROLES = ["collector_a", "head_a", "collector_b", "head_b", "quality", "leader", "auditor", "nobody"]
COLLEGE = {"quality", "leader", "auditor"}
VIEW_A = {"collector_a", "head_a"} | COLLEGE
VIEW_B = {"collector_b", "head_b"} | COLLEGE

# what -> the users allowed
EXPECTED = {
    "home": set(ROLES),
    "board": COLLEGE,
    "department_a": VIEW_A,
    "department_b": VIEW_B,
    "rule_a": VIEW_A,
    "rule_b": VIEW_B,
    "explain_a": {"collector_a", "head_a", "quality"},
    "explain_b": {"collector_b", "head_b", "quality"},
    "reveal_a": {"quality", "auditor"},
    "approve_waiver_a": {"quality"},
    "approve_explanation_a": {"head_a", "quality"},
    "sign_a": {"head_a"},
    "sign_b": {"head_b"},
    "signoff_a": VIEW_A,
    "signoff_b": VIEW_B,
    "evidence_a": VIEW_A,
    "evidence_b": VIEW_B,
    "audit": {"quality", "auditor"},
    "draft_correction_a": {"collector_a", "head_a", "quality"},
    "correction_a": VIEW_A,
    "correction_b": VIEW_B,
    # a 更正表's three signatures, each by its one role, in order
    "sign_correction_collector_a": {"collector_a"},
    "sign_correction_head_a": {"head_a"},
    "sign_correction_leader_a": {"leader"},
    "calendar": set(ROLES),  # everyone sees the deadlines (a department user only its own)
    "set_calendar": {"quality"},
    "assessment": COLLEGE,
    "assessment_xlsx": COLLEGE,
    "trace_indicator": COLLEGE,
}


def _objects(site):
    """Fresh objects of both departments for one request."""
    from portal import evidence
    from portal.models import Correction, Evidence, Explanation, SignOff

    out = {}
    for tag, dept, collector in (("a", site.a, "collector_a"), ("b", site.b, "collector_b")):
        d = site.department(dept)
        out[f"dept_{tag}"] = d
        out[f"rule_{tag}"] = site.rule_of(dept)
        sha, kind, size = evidence.store(SimpleUploadedFile(f"{tag}.pdf", b"%PDF-1.4\n% evidence " + tag.encode()))
        out[f"evidence_{tag}"] = Evidence.objects.create(sha256=sha, name=f"{tag}.pdf", kind=kind, size=size,
                                                        department=d, uploaded_by=site.users[collector])  # fmt: skip
        out[f"signoff_{tag}"] = SignOff.objects.create(academic_year=site.year, department=d, tables=[],
                                                       content_sha256="0" * 64, snapshot="x",
                                                       signed_by=site.users[f"head_{tag}"])  # fmt: skip
        voided = SignOff.objects.create(academic_year=site.year, department=d, tables=[], content_sha256="1" * 64,
                                        snapshot="x", signed_by=site.users[f"head_{tag}"], state="void",
                                        needs_correction=True)  # fmt: skip
        out[f"voided_{tag}"] = SignOff.objects.create(
            academic_year=site.year,
            department=d,
            tables=[],
            content_sha256="3" * 64,
            snapshot="x",
            state="void",
            signed_by=site.users[f"head_{tag}"],
            needs_correction=True,
        )
        done = []
        for step in ("collector", "head", "leader"):  # a form waiting for each signature in turn
            out[f"correction_{tag}_{step}"] = Correction.objects.create(
                academic_year=site.year, department=d, signoff=voided, reason="更正", content_sha256="2" * 64,
                created_by=site.users[collector], signatures=list(done),
            )  # fmt: skip
            done.append(dict(step=step, user=f"someone-{step}", name="", at="2026-11-29T10:00:00"))
        for severity in ("error", "warning") if tag == "a" else ("error",):
            out[f"{severity}_explanation_{tag}"] = Explanation.objects.create(
                academic_year=site.year, rule_id=site.rule_of(dept, severity).id, severity=severity, department=d,
                rows=[{"id": "x", "hash": "y", "label": "z"}], reason="测试", created_by=site.users[collector],
            )  # fmt: skip
    return out


def _request(site, client, what: str, o: dict):
    """Make the request for ``what``; returns (response, a function telling whether it changed anything; None for
    a page that changes nothing)."""
    from portal.models import Correction, Explanation, SignOff

    y = f"?year={site.year}"
    dept = o["dept_b"] if what.endswith("_b") else o["dept_a"]
    rule = o["rule_b"] if what.endswith("_b") else o["rule_a"]
    none = lambda: None  # noqa: E731
    if what == "home":
        return client.get("/"), none
    if what == "board":
        return client.get("/board/" + y), none
    if what.startswith("department_"):
        return client.get(f"/dept/{dept.pk}/" + y), none
    if what.startswith("rule_"):
        return client.get(f"/dept/{dept.pk}/rule/{rule.id}/" + y), none
    if what.startswith("explain_"):
        before = Explanation.objects.count()
        r = client.post(f"/dept/{dept.pk}/rule/{rule.id}/explain/",
                        {"year": site.year, "all_rows": "on", "reason": "数据属实"})  # fmt: skip
        return r, lambda: Explanation.objects.count() == before + 1
    if what == "reveal_a":
        r = client.post(f"/dept/{dept.pk}/rule/{rule.id}/reveal/", {"year": site.year, "reason": "审计核对原值"})
        return r, none
    if what.startswith("approve_"):
        e = o["error_explanation_a" if what == "approve_waiver_a" else "warning_explanation_a"]
        r = client.post(f"/explanation/{e.pk}/decide/", {"verdict": "approve", "expires": "2099-12-31"})
        return r, lambda: Explanation.objects.get(pk=e.pk).state == Explanation.APPROVED
    if what in ("sign_a", "sign_b"):
        before = SignOff.objects.filter(department=dept).count()
        r = client.post(f"/dept/{dept.pk}/sign/", {"year": site.year})
        return r, lambda: SignOff.objects.filter(department=dept).count() != before
    if what.startswith("signoff_"):
        return client.get(f"/signoff/{o['signoff_' + what[-1]].pk}/"), none
    if what.startswith("evidence_"):
        return client.get(f"/evidence/{o['evidence_' + what[-1]].pk}/"), none
    if what == "audit":
        return client.get("/audit/"), none
    if what == "calendar":
        return client.get("/calendar/" + y), none
    if what == "set_calendar":
        from portal.models import CollectionWindow

        before = CollectionWindow.objects.filter(academic_year=site.year).values_list("set_at", flat=True).first()
        r = client.post("/calendar/", {"year": site.year, "opens": "2027-09-24", "closes": "2027-10-24"})
        return (
            r,
            lambda: (
                CollectionWindow.objects.filter(academic_year=site.year).values_list("set_at", flat=True).first()
                != before
            ),
        )
    if what == "trace_indicator":
        r = client.get("/trace/indicator/生师比/" + y)
        if r.status_code == 200:
            assert "专任教师数" in r.content.decode() and "✓ 与该数一致" in r.content.decode()
        return r, none
    if what.startswith("assessment"):
        r = client.get("/assessment/" + y + ("&format=xlsx" if what.endswith("xlsx") else ""))
        if r.status_code == 200 and what.endswith("xlsx"):
            assert r.content[:2] == b"PK"  # a workbook
        return r, none
    if what == "draft_correction_a":
        voided = o["voided_a"]
        r = client.post(f"/signoff/{voided.pk}/correction/", {"reason": "源数据更正"})
        return r, lambda: Correction.objects.filter(signoff=voided).count() == 1
    if what.startswith("correction_"):
        return client.get(f"/correction/{o['correction_' + what[-1] + '_collector'].pk}/"), none
    if what.startswith("sign_correction_"):
        step = what.split("_")[2]
        c = o[f"correction_a_{step}"]
        r = client.post(f"/correction/{c.pk}/sign/")
        return r, lambda: len(Correction.objects.get(pk=c.pk).signatures) == len(c.signatures) + 1
    raise AssertionError(what)


@pytest.mark.parametrize("what", sorted(EXPECTED))
def test_every_role_gets_exactly_its_rights(site, what):
    for who in ROLES:
        o = _objects(site)
        res, effect = _request(site, site.client(who), what, o)
        if who in EXPECTED[what]:
            assert res.status_code in (200, 302), (what, who, res.status_code)
            if what in ("sign_a", "sign_b"):
                # the department has failing error rows nobody waived: the head is heard, and told why not
                assert effect() is False and res["Location"].startswith(f"/dept/{o['dept_' + what[-1]].pk}/")
            else:
                assert effect() in (None, True), (what, who, "the action had no effect")
            if res.status_code == 302:
                assert "/login/" not in res["Location"], (what, who)
        else:
            assert res.status_code == 403, (what, who, res.status_code)
            assert effect() in (None, False), (what, who, "a refused action changed something")


@pytest.mark.parametrize("what", sorted(EXPECTED))
def test_anonymous_is_sent_to_login_and_nothing_changes(site, what):
    o = _objects(site)
    res, effect = _request(site, site.client(None), what, o)
    assert res.status_code == 302 and res["Location"].startswith("/login/"), (what, res.status_code)
    assert effect() in (None, False)


def test_the_admin_pages_are_the_quality_office_s(site):
    assert site.client("quality").get("/admin/auth/user/").status_code == 200
    for who in ROLES:
        if who != "quality":
            res = site.client(who).get("/admin/auth/user/")
            assert res.status_code == 302 and "/admin/login/" in res["Location"], who


def test_a_department_user_sees_only_their_departments_on_the_home_page(site):
    res = site.client("collector_b").get("/", follow=True)
    assert res.status_code == 200 and site.b in res.content.decode() and site.a not in res.content.decode()


def test_login_is_throttled_after_five_failures(site):
    from django.test import Client

    c = Client()
    for _ in range(5):
        assert c.post("/login/", {"username": "head_b", "password": "wrong"}).status_code == 200
    res = c.post("/login/", {"username": "head_b", "password": PASSWORD})  # right password, but locked
    assert res.status_code == 200 and "登录失败次数过多" in res.content.decode()
    other = Client().post("/login/", {"username": "collector_b", "password": PASSWORD})
    assert other.status_code == 302  # another user is not locked out


def test_search_finds_tables_rules_and_indicators_by_chinese_names_and_numbers_within_the_user_s_rights(site):
    from portal import data

    table = data.tables_of(site.settings, site.year, site.a)[0]
    rule = site.rule_of(site.a)
    for q, expected in ((table.number, f"{table.number} {table.name}"), (table.name[:3], table.name),
                        (rule.id, rule.message), (site.a, site.a)):  # fmt: skip
        mine = site.client("collector_a").get("/search/", {"q": q, "year": site.year}).content.decode()
        assert expected in mine, q
        others = site.client("collector_b").get("/search/", {"q": q, "year": site.year}).content.decode()
        assert "没有找到" in others and (expected == q or expected not in others), q  # another's stay hidden
    board = site.client("quality").get("/search/", {"q": "生师比", "year": site.year}).content.decode()
    assert "核心指标" in board and "/trace/indicator/" in board
    assert "/trace/indicator/" not in site.client("collector_a").get("/search/", {"q": "生师比"}).content.decode()
