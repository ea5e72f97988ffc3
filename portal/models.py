"""What the portal records. Every row that records a decision names who took it and when; the audit log
(``AuditEntry``) holds every action, hash-chained (portal/auditlog.py)."""

from django.conf import settings
from django.db import models


class Department(models.Model):
    """A department as the college names it (rules, national tables and digests use the same names)."""

    name = models.CharField("部门", max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "部门"

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's role: for one department (collector, head) or across the college (quality office, leader,
    auditor). A user may hold several."""

    COLLECTOR, HEAD, QUALITY, LEADER, AUDITOR = "collector", "head", "quality", "leader", "auditor"
    ROLES = [
        (COLLECTOR, "数据采集员"),
        (HEAD, "部门负责人"),
        (QUALITY, "质量办"),
        (LEADER, "校领导"),
        (AUDITOR, "审计"),
    ]
    DEPARTMENT_ROLES = (COLLECTOR, HEAD)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("角色", max_length=20, choices=ROLES)
    department = models.ForeignKey(Department, on_delete=models.CASCADE, null=True, blank=True, verbose_name="部门")

    class Meta:
        unique_together = [("user", "role", "department")]
        verbose_name = verbose_name_plural = "角色"

    def __str__(self):
        return f"{self.user} {self.get_role_display()} {self.department or '全校'}"


EVIDENCE_KINDS = [
    ("pdf", "PDF 文档"),
    ("png", "PNG 图片"),
    ("jpeg", "JPEG 图片"),
    ("docx", "Word 文档"),
    ("xlsx", "Excel 工作簿"),
    ("pptx", "PowerPoint 演示文稿"),
    ("ole", "Office 97-2003 文档"),
]


class Evidence(models.Model):
    """An uploaded file (佐证材料), stored once under its SHA-256 (portal/evidence.py); the name is shown only."""

    sha256 = models.CharField(max_length=64, db_index=True)
    name = models.CharField("文件名", max_length=200)
    kind = models.CharField("类型", max_length=40, choices=EVIDENCE_KINDS)
    size = models.BigIntegerField("大小")
    department = models.ForeignKey(Department, on_delete=models.PROTECT)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "佐证材料"


class Explanation(models.Model):
    """An explanation (情况说明) of a failing rule's rows, or for an error rule a waiver: the exact rows it covers
    (identity and a hash of each failing value) or a tolerance, why, and who approved it until when. Every
    night's results re-test it (portal/review.py): it covers only what it named."""

    SUBMITTED, APPROVED, REJECTED, REOPENED, EXPIRED, RESOLVED = (
        "submitted", "approved", "rejected", "reopened", "expired", "resolved"
    )  # fmt: skip
    STATES = [
        (SUBMITTED, "待审批"),
        (APPROVED, "已批准"),
        (REJECTED, "已退回"),
        (REOPENED, "数据已变化，需重新说明"),
        (EXPIRED, "已过期"),
        (RESOLVED, "已不再出现"),
    ]
    academic_year = models.CharField("学年", max_length=9)
    rule_id = models.CharField("规则", max_length=60)
    severity = models.CharField(max_length=10)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, verbose_name="部门")
    rows = models.JSONField("说明的行", default=list)  # [{"id": row identity, "hash": value hash, "label": shown}]
    tolerance = models.PositiveIntegerField("容许行数", null=True, blank=True)  # instead of rows
    reason = models.TextField("说明")
    evidence = models.ManyToManyField(Evidence, blank=True, verbose_name="佐证材料")
    state = models.CharField("状态", max_length=20, choices=STATES, default=SUBMITTED)
    state_note = models.CharField("状态说明", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    expires = models.DateField("有效期至", null=True, blank=True)
    tested_on = models.CharField("最近复核的数据", max_length=100, blank=True)  # the snapshot it was re-tested on

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "情况说明与豁免"

    @property
    def is_waiver(self) -> bool:
        return self.severity == "error"

    def kind_label(self) -> str:
        return "豁免申请" if self.is_waiver else "情况说明"


class SignOff(models.Model):
    """A department head's 上报确认书 for a year's tables: bound to the SHA-256 of those tables' content, their
    rule results and the accepted explanations. Voided automatically when any of that changes."""

    VALID, VOID = "valid", "void"
    academic_year = models.CharField("学年", max_length=9)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, verbose_name="部门")
    tables = models.JSONField("确认的表", default=list)  # [{"number", "name", "sha256"}]
    content_sha256 = models.CharField("内容哈希", max_length=64)
    parts = models.JSONField(default=dict)  # what the hash is made of, per part, to say what changed
    snapshot = models.CharField("数据快照", max_length=100)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField("状态", max_length=10, choices=[(VALID, "有效"), (VOID, "已失效")], default=VALID)
    void_reason = models.TextField("失效原因", blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # voided because the data changed after signing: re-signing needs a completed 更正表 first
    needs_correction = models.BooleanField(default=False)
    indicators = models.JSONField(default=list)  # the core indicators when signed (a correction shows the effect)

    class Meta:
        ordering = ["-signed_at"]
        verbose_name = verbose_name_plural = "上报确认书"


class Correction(models.Model):
    """A 数据采集更正表: what changed after a signature (drafted from the signed and the current data), its effect
    on the core indicators, and the three signatures in order: the collector, the head of the owning (归口)
    department, the college leader in charge. Complete, it lets the department sign again."""

    STEPS = [("collector", "数据采集员"), ("head", "归口部门负责人"), ("leader", "分管校领导")]
    academic_year = models.CharField("学年", max_length=9)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, verbose_name="部门")
    signoff = models.ForeignKey(SignOff, on_delete=models.PROTECT, related_name="corrections")
    changes = models.JSONField(default=list)  # [{number, name, key, field, old, new}]
    changes_total = models.PositiveIntegerField(default=0)
    indicators = models.JSONField(default=list)  # [{name, old, new, unit}]
    reason = models.TextField("更正原因")
    content_sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    signatures = models.JSONField(default=list)  # [{step, user, at}] in the order of STEPS
    evidence = models.ManyToManyField(Evidence, blank=True, verbose_name="佐证材料")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "数据采集更正表"

    @property
    def next_step(self) -> str | None:
        done = len(self.signatures)
        return self.STEPS[done][0] if done < len(self.STEPS) else None

    @property
    def complete(self) -> bool:
        return self.next_step is None


class AuditEntry(models.Model):
    """One action, append-only: who, when, what, the hash of the data it concerned, and the chain hash over
    this entry and the one before (portal/auditlog.py verifies the chain)."""

    at = models.DateTimeField()
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=60)
    target = models.CharField(max_length=200)
    data_sha256 = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict)
    previous = models.CharField(max_length=64)
    chain = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = "操作日志"


class CollectionWindow(models.Model):
    """The national collection window of an academic year's data, as the quality office sets it (without one:
    opens on the college's collection_opens day, closes 30 days later)."""

    academic_year = models.CharField("学年", max_length=9, unique=True)
    opens = models.DateField("采集开始")
    closes = models.DateField("采集截止")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "采集日程"


class PortalState(models.Model):
    """Small facts the portal keeps about itself, e.g. the snapshot the explanations were last re-tested on."""

    key = models.CharField(max_length=60, unique=True)
    value = models.TextField()
