"""The portal's pages. Each view reads the newest published snapshot (portal/data.py), checks the user's right
for the department the object belongs to (portal/access.py) and records every action (portal/auditlog.py).
Values from the source data reach templates only through Django's auto-escaping; personal values are masked
unless an auditor or the quality office reveals them with a stated reason, which is logged."""

import os
import shutil
from datetime import date
from pathlib import Path
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache as throttle
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from model.canonical import load_model
from model.masking import mask
from model.settings import SettingsError
from portal import access, assessment, auditlog, calendar, corrections, data, evidence, review
from portal.config import statedata
from portal.models import AuditEntry, CollectionWindow, Correction, Department, Evidence, Explanation, SignOff
from reporting.forms import form_file_name
from reporting.indicators import load_definitions
from reporting.trace import TraceError, source_rows, trace_indicator

SEVERITY = {"error": "错误（阻止上报）", "warning": "警告（需说明）"}
ROW_LIMIT = 500  # failing rows shown on one page (every row can still be explained: 全部不合格行)
TRACE_ROWS = 50  # source rows shown per input of a traced indicator
AUDIT_PAGE = 200  # audit log entries per page


# --- helpers --------------------------------------------------------------------------------------------------


def _snapshot(request):
    """(settings, snapshot, year) for a page; re-tests explanations and signatures when a new run published."""
    settings = statedata()
    review.retest(settings)
    try:
        snap = data.latest(settings)
    except data.NoSnapshot:
        return settings, None, None
    _ensure_departments(settings, snap)
    year = request.GET.get("year") or request.POST.get("year") or data.default_year(snap.con)
    if year is not None and year not in data.years(snap.con):
        raise Http404(f"{year} 学年尚未检查")
    return settings, snap, year


def _ensure_departments(settings, snap) -> None:
    names = data.departments(settings, data.default_year(snap.con))
    known = set(Department.objects.values_list("name", flat=True))
    Department.objects.bulk_create([Department(name=n) for n in names if n not in known])


def _department(request, pk: int, action: str = "view") -> Department:
    dept = get_object_or_404(Department, pk=pk)
    access.require(request.user, action, dept.name)
    return dept


_LABELS: dict[int, tuple[dict, dict, dict]] = {}


def _labels(settings) -> tuple[dict, dict, dict]:
    """Chinese labels: field name -> its meaning; (system, table) -> what its key is called (教工号, 学号 …);
    system -> its title (人事系统 …). Made again only when the mapping files were read again."""
    specs = data.mappings(settings)
    if id(specs) not in _LABELS:
        _LABELS.clear()
        _LABELS[id(specs)] = _make_labels(specs)
    return _LABELS[id(specs)]


def _make_labels(specs) -> tuple[dict, dict, dict]:
    model = load_model()
    fields, systems = {}, {}
    for e in model.entities.values():
        for f in e.fields.values():
            fields.setdefault(f.name, f.meaning or f.name)
    keys = {}
    for spec in specs.values():
        systems[spec.system] = spec.title or spec.system
        for ent in spec.entities.values():
            canon = model.entities.get(ent.entity or ent.name)
            label = "/".join(canon.fields[k].meaning for k in canon.key if k in canon.fields) if canon else ""
            for where in (ent.table, ent.files):
                if where:
                    keys[(spec.system, where)] = label or "记录"
    return fields, keys, systems


def _rows(settings, snap, failing, state, reveal: bool) -> list[dict]:
    """The failing rows as a clerk reads them: the record's key under its own name (教工号, 学号 …), the person's
    name where the source row has one, the field's Chinese name, the value (masked unless revealed)."""
    fields, keys, systems = _labels(settings)
    pii = data.pii(settings)
    names = [f for f, kind in pii.items() if kind == "name"]
    shown = list(failing.items())[:ROW_LIMIT]
    where = data.raw_tables(settings, {(r["system"], r["table"]) for _, (_, r) in shown})
    sources = source_rows(snap.con, [r["raw_id"] for _, (_, r) in shown if r["raw_id"]], where)
    out = []
    for rid, (_, r) in shown:
        e = state["covered"].get(rid)
        value = r["value"] if reveal else mask(r["value"], pii.get(r["column"]))
        src = sources.get(r["raw_id"], {}).get("values", {})
        person = next((src[f] for f in names if src.get(f)), None)
        out.append(
            dict(
                id=rid,
                system=systems.get(r["system"], r["system"] or ""),
                table=r["table"] or "",
                key_label=keys.get((r["system"], r["table"]), "记录"),
                key=r["key"] or "",
                twin=f"第 {r['occurrence']} 条" if r["occurrence"] > 1 or rid + "#2" in failing else "",
                person=(person if reveal else mask(person, "name")) or "",
                column=fields.get(r["column"], r["column"] or ""),
                value="（空）" if value is None else value,
                covered=e,
                pending=rid in state["pending"],
            )
        )
    return out


def _department_summary(settings, snap, year, dept: Department) -> dict:
    report = data.failures(settings, snap.con, year, dept.name)
    errors = warnings = open_rows = 0
    for f in report:
        st = review.rule_state(snap.con, year, f["rule"].id)
        uncovered = len(st["failing"]) - len(st["covered"])
        f["uncovered"] = uncovered
        f["pending"] = len(st["pending"])
        f["department_pk"] = dept.pk
        if f["rule"].severity == "error":
            errors += 1
            open_rows += uncovered
        else:
            warnings += 1
    signoff = SignOff.objects.filter(academic_year=year, department=dept).first()
    return dict(
        department=dept,
        report=report,
        errors=errors,
        warnings=warnings,
        open_error_rows=open_rows,
        pending=Explanation.objects.filter(academic_year=year, department=dept, state=Explanation.SUBMITTED).count(),
        signoff=signoff,
        tables=data.tables_of(settings, year, dept.name),
    )


def _no_data(request):
    return render(request, "portal/no_data.html", dict(message=data.NO_SNAPSHOT))


# --- sign in ------------------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's login, throttled: five failures for one user name from one address lock it for 15 minutes."""

    template_name = "portal/login.html"
    LIMIT, WINDOW = 5, 15 * 60

    def _key(self):
        name = self.request.POST.get("username", "")[:150]
        return f"login-failures:{name}:{self.request.META.get('REMOTE_ADDR', '')}"

    def post(self, request, *args, **kwargs):
        if throttle.get(self._key(), 0) >= self.LIMIT:
            form = self.get_form()
            form.is_valid()
            form.errors.clear()
            form.add_error(None, "登录失败次数过多，请 15 分钟后再试，或联系质量办重置密码。")
            return self.form_invalid(form)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if self.request.method == "POST" and not form.errors.get("__all__", [""])[0].startswith("登录失败次数过多"):
            key = self._key()
            throttle.set(key, throttle.get(key, 0) + 1, self.WINDOW)
        return super().form_invalid(form)

    def form_valid(self, form):
        throttle.delete(self._key())
        auditlog.record(form.get_user(), "login", form.get_user().get_username())
        return super().form_valid(form)


# --- pages --------------------------------------------------------------------------------------------------


@login_required
def home(request):
    if access.can(request.user, "board"):
        return redirect("portal:board")
    mine = access.departments(request.user)
    if len(mine) == 1:
        return redirect("portal:department", pk=mine[0].pk)
    return render(request, "portal/home.html", dict(departments=mine))


@login_required
def board(request):
    access.require(request.user, "board")
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    rows = [_department_summary(settings, snap, year, d) for d in Department.objects.all()]
    due = calendar.deadlines(settings, snap.con, year, timezone.localdate())
    for r in rows:
        r["overdue"] = sum(d.state == "逾期未完成" for d in due if d.department == r["department"].name)
        r["soon"] = sum(d.state == "即将到期" for d in due if d.department == r["department"].name)
    rows = [r for r in rows if r["tables"] or r["report"]]
    blocking = [f for r in rows for f in r["report"] if f["rule"].severity == "error" and f["uncovered"]]
    history_years, history = data.indicator_history(snap.con)
    earlier = [y for y in history_years if y < year][:4]
    indicators = [dict(i, earlier=[history.get(i["name"], {}).get(y) for y in earlier])
                  for i in data.indicators(snap.con, year)]  # fmt: skip
    return render(
        request,
        "portal/board.html",
        dict(
            year=year,
            years=data.years(snap.con),
            snapshot=data.snapshot_label(snap.name),
            rows=rows,
            indicators=indicators,
            earlier=earlier,
            blocking=blocking,
            gate=review.gate(settings, snap.con, year),
            window=calendar.window(settings, year),
        ),
    )


@login_required
def department(request, pk):
    dept = _department(request, pk)
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    summary = _department_summary(settings, snap, year, dept)
    return render(
        request,
        "portal/department.html",
        dict(
            summary,
            year=year,
            years=data.years(snap.con),
            snapshot=data.snapshot_label(snap.name),
            severity=SEVERITY,
            can_sign=access.can(request.user, "sign", dept.name),
            signoffs=SignOff.objects.filter(academic_year=year, department=dept),
            deadlines=[
                d
                for d in calendar.deadlines(settings, snap.con, year, timezone.localdate())
                if d.department == dept.name
            ],  # fmt: skip
            explanations=Explanation.objects.filter(academic_year=year, department=dept),
        ),
    )


class ExplainForm(forms.Form):
    reason = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    all_rows = forms.BooleanField(label="说明本规则当前全部不合格行", required=False)
    tolerance = forms.IntegerField(label="或：容许不合格行数（不逐行说明，不合格行数不超过此数即视为已说明）",
                                   required=False, min_value=1)  # fmt: skip


def _rule_page(request, dept, rule_id, reveal=False, form=None):
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    rule = data.rule(settings, rule_id)
    if rule is None or rule.owner != dept.name:
        raise Http404("该部门没有这条规则")
    state = review.rule_state(snap.con, year, rule_id)
    rows = _rows(settings, snap, state["failing"], state, reveal)
    user = request.user
    return render(
        request,
        "portal/rule.html",
        dict(
            department=dept,
            rule=rule,
            severity=SEVERITY[rule.severity],
            year=year,
            snapshot=data.snapshot_label(snap.name),
            rows=rows,
            names=any(r["person"] for r in rows),
            total=len(state["failing"]),
            limit=ROW_LIMIT,
            uncovered=len(state["failing"]) - len(state["covered"]),
            explanations=state["explanations"],
            form=form or ExplainForm(),
            revealed=reveal,
            can_explain=access.can(user, "explain", dept.name),
            can_reveal=access.can(user, "reveal", dept.name),
            can_approve=access.can(
                user, "approve_waiver" if rule.severity == "error" else "approve_explanation", dept.name
            ),  # fmt: skip
            today=timezone.localdate(),
        ),
    )


@login_required
def rule(request, pk, rule_id):
    dept = _department(request, pk)
    return _rule_page(request, dept, rule_id)


@login_required
@require_POST
def reveal(request, pk, rule_id):
    dept = _department(request, pk, "reveal")
    why = request.POST.get("reason", "").strip()
    if len(why) < 4:
        messages.error(request, "显示原值须写明理由（至少 4 个字）。")
        return redirect(reverse("portal:rule", args=[dept.pk, rule_id]) + f"?year={request.POST.get('year', '')}")
    auditlog.record(request.user, "reveal", f"{dept.name} {rule_id}", reason=why, year=request.POST.get("year"))
    return _rule_page(request, dept, rule_id, reveal=True)


@login_required
@require_POST
def explain(request, pk, rule_id):
    dept = _department(request, pk, "explain")
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    rule = data.rule(settings, rule_id)
    if rule is None or rule.owner != dept.name:
        raise Http404("该部门没有这条规则")
    form = ExplainForm(request.POST)
    failing = data.failing_rows(snap.con, year, rule_id)
    chosen = (
        failing
        if request.POST.get("all_rows")
        else {k: failing[k] for k in request.POST.getlist("row") if k in failing}
    )
    tolerance = form.cleaned_data.get("tolerance") if form.is_valid() else None
    if tolerance is not None:
        chosen = {}  # a tolerance instead of rows
    elif form.is_valid() and not chosen:
        form.add_error(None, "请勾选要说明的不合格行（或勾选“说明本规则当前全部不合格行”，或填写容许行数）。")
    files = request.FILES.getlist("evidence")
    stored = []
    if form.is_valid():
        for f in files:
            try:
                stored.append((f.name, *evidence.store(f)))
            except evidence.EvidenceError as e:
                form.add_error(None, str(e))
    if not form.is_valid():
        return _rule_page(request, dept, rule_id, form=form)
    fields = _labels(settings)[0]
    e = Explanation.objects.create(
        academic_year=year,
        rule_id=rule_id,
        severity=rule.severity,
        department=dept,
        rows=[
            dict(id=rid, hash=h, label=f"{r['table']} {r['key']} {fields.get(r['column'], r['column'])}")
            for rid, (h, r) in chosen.items()
        ],
        tolerance=tolerance,
        reason=form.cleaned_data["reason"],
        created_by=request.user,
    )
    _attach(request.user, e, dept, stored)
    auditlog.record(request.user, "explain", f"情况说明 #{e.id} {rule_id}", review.sha256_json(e.rows),
                    rows=len(e.rows), year=year, reason=e.reason)  # fmt: skip
    scope = f"容许 {tolerance} 行" if tolerance is not None else f"{len(e.rows)} 行"
    messages.success(request, f"已提交{e.kind_label()} #{e.id}（{scope}），等待审批。")
    return redirect(reverse("portal:rule", args=[dept.pk, rule_id]) + f"?year={year}")


def _attach(user, record, dept: Department, stored: list[tuple]) -> None:
    """Evidence files just stored (name, sha256, kind, size), linked to an explanation or a correction."""
    for name, sha, kind, size in stored:
        ev = Evidence.objects.create(sha256=sha, name=name[:200], kind=kind, size=size, department=dept,
                                     uploaded_by=user)  # fmt: skip
        record.evidence.add(ev)
        auditlog.record(user, "upload_evidence", f"佐证材料 #{ev.id}", sha, name=name[:200], size=size)


@login_required
@require_POST
def upload_form(request, pk):
    """A filled department form (部门填报表) into the forms drop folder, under the name its mapping reads; the
    next run loads it. The file replaced is kept beside it (a name the drop does not read)."""
    dept = _department(request, pk, "upload")
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    back = reverse("portal:department", args=[dept.pk]) + f"?year={year}"
    chosen = {f"{spec.system}/{name}": (spec, name) for spec, name in data.forms_of(settings, dept.name)}
    upload = request.FILES.get("form")
    if request.POST.get("form_key") not in chosen or upload is None:
        messages.error(request, "请选择要上传的表单文件。")
        return redirect(back)
    spec, name = chosen[request.POST["form_key"]]
    entity = spec.entities[name]
    try:
        sha, kind, size = evidence.store(upload)  # typed by content and kept like evidence, by its hash
    except evidence.EvidenceError as e:
        messages.error(request, str(e))
        return redirect(back)
    if kind != "xlsx":
        messages.error(
            request, f"{upload.name} 不是 Excel 工作簿（.xlsx）：请上传用 statedata forms 生成的表单填好后的文件。"
        )
        return redirect(back)
    try:
        folder = Path(settings.source_location(spec))
    except SettingsError as e:
        messages.error(request, f"表单的上传目录未配置，请联系信息中心：{e}")
        return redirect(back)
    target = folder / form_file_name(entity, year)
    if target.exists():
        target.rename(target.with_name(f"{target.name}.replaced-{timezone.now():%Y%m%dT%H%M%S}"))
    shutil.copyfile(evidence.path_of(sha), target.with_name(target.name + ".partial"))
    os.replace(target.with_name(target.name + ".partial"), target)
    auditlog.record(request.user, "upload_form", f"{dept.name} {entity.description} {year}", sha,
                    file=target.name, size=size)  # fmt: skip
    messages.success(request, f"已上传 {entity.description}（{year}）：将在下一次运行时读取，校验结果随后显示在这里。")
    return redirect(back)


@login_required
@require_POST
def decide(request, pk):
    e = get_object_or_404(Explanation, pk=pk)
    action = "approve_waiver" if e.is_waiver else "approve_explanation"
    access.require(request.user, action, e.department.name)
    verdict = request.POST.get("verdict")
    back = reverse("portal:rule", args=[e.department.pk, e.rule_id]) + f"?year={e.academic_year}"
    if e.state != Explanation.SUBMITTED or verdict not in ("approve", "reject"):
        messages.error(request, "这条说明已处理过，或操作无效。")
        return redirect(back)
    if verdict == "approve" and e.created_by_id == request.user.pk:
        messages.error(request, "不能批准自己提交的说明：请由另一位有审批权的人批准。")
        return redirect(back)
    expires = None
    if verdict == "approve" and e.is_waiver:
        try:
            expires = date.fromisoformat(request.POST.get("expires", ""))
        except ValueError:
            messages.error(request, "批准豁免须填写有效期（如 2027-06-30）。")
            return redirect(back)
        if expires < timezone.localdate():
            messages.error(request, "有效期不能早于今天。")
            return redirect(back)
    e.state = Explanation.APPROVED if verdict == "approve" else Explanation.REJECTED
    e.decided_by, e.decided_at, e.expires = request.user, timezone.now(), expires
    e.state_note = request.POST.get("note", "")[:300]
    e.save()
    auditlog.record(request.user, verdict, f"情况说明 #{e.id} {e.rule_id}", review.sha256_json(e.rows),
                    expires=str(expires or ""), note=e.state_note)  # fmt: skip
    messages.success(request, f"{e.kind_label()} #{e.id} 已{'批准' if verdict == 'approve' else '退回'}。")
    return redirect(back)


@login_required
@require_POST
def sign(request, pk):
    dept = _department(request, pk, "sign")
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    back = reverse("portal:department", args=[dept.pk]) + f"?year={year}"
    summary = _department_summary(settings, snap, year, dept)
    if summary["open_error_rows"]:
        messages.error(
            request,
            f"尚有 {summary['open_error_rows']} 行错误未修改也未获豁免，不能签署。"
            "请先在源系统修改，或提交豁免申请并经质量办批准。",
        )
        return redirect(back)
    if not summary["tables"]:
        messages.error(request, f"{dept.name} 在 {year} 学年没有负责的国家表，无需签署。")
        return redirect(back)
    pending = review.correction_pending(year, dept)
    if pending is not None:
        messages.error(
            request,
            f"确认书 #{pending.pk} 签署后数据已变化：须先起草数据采集更正表，经采集员、归口部门负责人、分管校领导"
            "依次签字后，才能重新签署。",
        )
        return redirect(back)
    s = review.sign(settings, snap.con, snap.name, year, dept, request.user)
    messages.success(request, f"已签署确认书 #{s.id}。")
    return redirect("portal:signoff", pk=s.pk)


@login_required
def signoff(request, pk):
    s = get_object_or_404(SignOff.objects.select_related("department", "signed_by"), pk=pk)
    access.require(request.user, "view", s.department.name)
    settings = statedata()
    review.retest(settings)
    s.refresh_from_db()
    return render(
        request,
        "portal/signoff.html",
        dict(s=s, college=settings.college.name, corrections=s.corrections.all(),
             can_correct=s.needs_correction and access.can(request.user, "draft_correction", s.department.name)),
    )  # fmt: skip


@login_required
@require_POST
def draft_correction(request, pk):
    """A 更正表 for a signature voided by a change: drafted from the signed and the current data."""
    s = get_object_or_404(SignOff.objects.select_related("department"), pk=pk)
    access.require(request.user, "draft_correction", s.department.name)
    settings, snap, _ = _snapshot(request)
    if snap is None:
        return _no_data(request)
    if not s.needs_correction:
        messages.error(request, "这份确认书不是因数据变化而失效的，无需更正表。")
        return redirect("portal:signoff", pk=s.pk)
    open_one = s.corrections.first()
    if open_one is not None and not open_one.complete:
        return redirect("portal:correction", pk=open_one.pk)
    reason = request.POST.get("reason", "").strip()
    if len(reason) < 4:
        messages.error(request, "请写明更正原因（至少 4 个字）。")
        return redirect("portal:signoff", pk=s.pk)
    stored = []
    for f in request.FILES.getlist("evidence"):
        try:
            stored.append((f.name, *evidence.store(f)))
        except evidence.EvidenceError as e:
            messages.error(request, str(e))
            return redirect("portal:signoff", pk=s.pk)
    changes, total, effects = corrections.draft(settings, snap.con, s)
    c = Correction.objects.create(
        academic_year=s.academic_year, department=s.department, signoff=s, changes=changes, changes_total=total,
        indicators=effects, reason=reason, created_by=request.user,
        content_sha256=review.sha256_json(dict(signoff=s.content_sha256, changes=changes, total=total,
                                               indicators=effects, reason=reason, snapshot=snap.name)),
    )  # fmt: skip
    _attach(request.user, c, s.department, stored)
    auditlog.record(request.user, "draft_correction", f"更正表 #{c.pk} {s.department.name}", c.content_sha256,
                    signoff=s.pk, changes=total)  # fmt: skip
    return redirect("portal:correction", pk=c.pk)


@login_required
def correction(request, pk):
    c = get_object_or_404(Correction.objects.select_related("department", "signoff", "created_by"), pk=pk)
    access.require(request.user, "view", c.department.name)
    step = c.next_step
    return render(
        request,
        "portal/correction.html",
        dict(c=c, steps=[(label, c.signatures[i] if i < len(c.signatures) else None)
                         for i, (_, label) in enumerate(Correction.STEPS)],
             can_sign=step is not None and access.can(request.user, f"correction_{step}", c.department.name),
             step_label=dict(Correction.STEPS).get(step, ""), college=statedata().college.name),
    )  # fmt: skip


@login_required
@require_POST
def sign_correction(request, pk):
    c = get_object_or_404(Correction.objects.select_related("department"), pk=pk)
    step = c.next_step
    if step is None:
        messages.error(request, "这份更正表已签字完毕。")
        return redirect("portal:correction", pk=c.pk)
    access.require(request.user, f"correction_{step}", c.department.name)
    if any(sig["user"] == request.user.get_username() for sig in c.signatures):
        messages.error(request, "同一人不能在更正表上签两次字。")
        return redirect("portal:correction", pk=c.pk)
    c.signatures = c.signatures + [
        dict(step=step, user=request.user.get_username(), name=request.user.get_full_name(),
             at=f"{timezone.localtime():%Y-%m-%d %H:%M:%S}")
    ]  # fmt: skip
    c.save(update_fields=["signatures"])
    auditlog.record(request.user, "sign_correction", f"更正表 #{c.pk} {c.department.name}", c.content_sha256,
                    step=step)  # fmt: skip
    label = dict(Correction.STEPS)[step]
    messages.success(
        request, f"已作为{label}签字。" + ("三方签字完成，部门负责人可以重新签署确认书。" if c.complete else "")
    )
    return redirect("portal:correction", pk=c.pk)


@login_required
def calendar_page(request):
    """The year's collection window and every deadline; the quality office sets the window here."""
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    college_wide = access.can(request.user, "board")
    mine = {d.name for d in access.departments(request.user)}
    if request.method == "POST":
        access.require(request.user, "calendar")
        try:
            opens, closes = (date.fromisoformat(request.POST.get(k, "")) for k in ("opens", "closes"))
        except ValueError:
            messages.error(request, "请填写采集开始和截止日期（如 2027-09-24）。")
            return redirect(reverse("portal:calendar") + f"?year={year}")
        if closes < opens:
            messages.error(request, "截止日期不能早于开始日期。")
            return redirect(reverse("portal:calendar") + f"?year={year}")
        CollectionWindow.objects.update_or_create(
            academic_year=year, defaults=dict(opens=opens, closes=closes, set_by=request.user)
        )
        auditlog.record(request.user, "set_calendar", f"采集日程 {year}", opens=str(opens), closes=str(closes))
        messages.success(request, f"{year} 学年数据的采集日程已设为 {opens} 至 {closes}。")
        return redirect(reverse("portal:calendar") + f"?year={year}")
    due = calendar.deadlines(settings, snap.con, year, timezone.localdate())
    return render(
        request,
        "portal/calendar.html",
        dict(year=year, years=data.years(snap.con), snapshot=data.snapshot_label(snap.name),
             window=calendar.window(settings, year), can_set=access.can(request.user, "calendar"),
             deadlines=[d for d in due if college_wide or d.department in mine],
             estimated=any(not d.exact for d in due)),
    )  # fmt: skip


@login_required
def assessment_page(request):
    """The year-end 考核 table (quality office, leader, auditor), and its .xlsx."""
    access.require(request.user, "assessment")
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    try:
        rows, rules = assessment.table(settings, snap.con, year)
    except assessment.ScoringError as e:
        return render(request, "portal/no_data.html", dict(message=f"考核评分文件有误：{e}"))
    if request.GET.get("format") == "xlsx":
        auditlog.record(request.user, "export_assessment", f"年终考核 {year}")
        body = assessment.xlsx(rows, rules, year, settings.college.name)
        response = HttpResponse(body, content_type=evidence.CONTENT_TYPES["xlsx"])
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'年终考核_{year}.xlsx')}"
        return response
    return render(request, "portal/assessment.html",
                  dict(year=year, years=data.years(snap.con), snapshot=data.snapshot_label(snap.name), rows=rows,
                       rules=rules))  # fmt: skip


@login_required
def trace_indicator_page(request, name):
    """A core indicator down to its source rows (the trace `statedata trace --indicator` prints)."""
    access.require(request.user, "board")
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    try:
        doc = trace_indicator(snap.con, year, name, load_definitions(), TRACE_ROWS)
    except TraceError as e:
        raise Http404(str(e)) from None
    _, keys, systems = _labels(settings)
    for i in doc["inputs"]:
        shown = source_rows(snap.con, [r for r, _ in i["rows"][:TRACE_ROWS]])
        i["shown"] = [
            dict(system=systems.get(src.get("system"), src.get("system")), table=src.get("table"),
                 key_label=keys.get((src.get("system"), src.get("table")), "记录"), key=src.get("key"), amount=a)
            for r, a in i["rows"][:TRACE_ROWS]
            for src in [shown.get(r, {})]
        ]  # fmt: skip
        if str(i["source"]).startswith("constant"):
            i["source"] = "常量（核心指标定义文件中的取值，不来自国家表）"
        i["adds_up"] = i["amounts_add_up_to"] is not None and abs(i["amounts_add_up_to"] - float(i["value"])) <= max(
            1e-4, 1e-7 * abs(float(i["value"]))
        )
    return render(request, "portal/trace.html", dict(doc=doc, year=year, snapshot=data.snapshot_label(snap.name),
                                                     limit=TRACE_ROWS))  # fmt: skip


@login_required
def search(request):
    """Find a national table by number or name (A10-1, 在校生), a department, a rule (R-JS-011, 教工号) or a core
    indicator: each result a link to its page, among what the user may see."""
    q = request.GET.get("q", "").strip()
    settings, snap, year = _snapshot(request)
    if snap is None:
        return _no_data(request)
    found = []
    if q:
        mine = {d.name: d for d in access.departments(request.user)}
        needle = q.lower()
        for t in data.tables_of(settings, year):
            dept = mine.get(data.owner(settings, t))
            if dept and (needle in t.number.lower() or needle in t.name):
                found.append(("国家表", f"{t.number} {t.name}（{dept.name}）",
                              reverse("portal:department", args=[dept.pk]) + f"?year={year}"))  # fmt: skip
        for name, dept in sorted(mine.items()):
            if needle in name.lower():
                found.append(("部门", name, reverse("portal:department", args=[dept.pk]) + f"?year={year}"))
        for r in data.rules(settings):
            dept = mine.get(r.owner)
            if dept and (needle in r.id.lower() or needle in r.message):
                found.append(("规则", f"{r.id} {r.message}（{r.owner}）",
                              reverse("portal:rule", args=[dept.pk, r.id]) + f"?year={year}"))  # fmt: skip
        if access.can(request.user, "board"):
            for i in data.indicators(snap.con, year):
                if needle in i["name"].lower():
                    found.append(("核心指标", i["name"],
                                  reverse("portal:trace_indicator", args=[i["name"]]) + f"?year={year}"))  # fmt: skip
    return render(request, "portal/search.html", dict(q=q, found=found[:200], total=len(found), year=year))


@login_required
def evidence_file(request, pk):
    ev = get_object_or_404(Evidence, pk=pk)
    access.require(request.user, "view", ev.department.name)
    path = evidence.path_of(ev.sha256)
    if not path.exists():
        raise Http404("文件已不在存储中")
    auditlog.record(request.user, "download_evidence", f"佐证材料 #{ev.id}", ev.sha256)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=ev.name,
                        content_type=evidence.CONTENT_TYPES[ev.kind])  # fmt: skip


@login_required
def audit_log(request):
    access.require(request.user, "audit_log")
    checked, problem = auditlog.verify()
    entries = AuditEntry.objects.order_by("-id")
    who, action = request.GET.get("user", "").strip(), request.GET.get("action", "").strip()
    if who:
        entries = entries.filter(username=who)
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, AUDIT_PAGE).get_page(request.GET.get("page"))
    actions = AuditEntry.objects.values_list("action", flat=True).distinct().order_by("action")
    context = dict(page=page, checked=checked, problem=problem, who=who, action=action, actions=actions)
    return render(request, "portal/audit.html", context)
