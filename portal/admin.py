"""The quality office's administration pages: users and their roles. Decisions (explanations, signatures) and
the audit log are shown read-only: they change only through the portal's own pages, which log every change."""

from django.contrib import admin

from portal.models import AuditEntry, Department, Explanation, Membership, SignOff

admin.site.site_header = "状态数据审核平台 · 管理"


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "department"]
    list_filter = ["role", "department"]
    autocomplete_fields = ["department"]


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Explanation)
class ExplanationAdmin(ReadOnly):
    list_display = ["id", "academic_year", "rule_id", "department", "state", "created_by", "decided_by", "expires"]
    list_filter = ["state", "department", "academic_year"]


@admin.register(SignOff)
class SignOffAdmin(ReadOnly):
    list_display = ["id", "academic_year", "department", "state", "signed_by", "signed_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnly):
    list_display = ["id", "at", "username", "action", "target"]
