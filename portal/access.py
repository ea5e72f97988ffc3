"""Who may see and do what. Every view asks here, with the department the object belongs to; a user acts only
for the departments they belong to (collector, head), the quality office for all, the leader and the auditor
read everything and change nothing (but the leader's signature on corrections and the auditor's reveal)."""

from django.conf import settings
from django.contrib.auth.backends import RemoteUserBackend
from django.contrib.auth.middleware import RemoteUserMiddleware
from django.core.exceptions import PermissionDenied

from portal.models import Department, Membership

COLLEGE_WIDE = (Membership.QUALITY, Membership.LEADER, Membership.AUDITOR)

# action -> the roles that may take it (department roles only for their own departments)
ACTIONS = {
    "view": (Membership.COLLECTOR, Membership.HEAD, *COLLEGE_WIDE),
    "explain": (Membership.COLLECTOR, Membership.HEAD, Membership.QUALITY),
    "upload": (Membership.COLLECTOR, Membership.HEAD, Membership.QUALITY),
    "approve_explanation": (Membership.HEAD, Membership.QUALITY),  # a warning's explanation
    "approve_waiver": (Membership.QUALITY,),  # an error rule's waiver
    "sign": (Membership.HEAD,),
    "draft_correction": (Membership.COLLECTOR, Membership.HEAD, Membership.QUALITY),
    # a 更正表's three signatures, in this order
    "correction_collector": (Membership.COLLECTOR,),
    "correction_head": (Membership.HEAD,),
    "correction_leader": (Membership.LEADER,),
    "reveal": (Membership.AUDITOR, Membership.QUALITY),
    "audit_log": (Membership.QUALITY, Membership.AUDITOR),
    "board": (Membership.QUALITY, Membership.LEADER, Membership.AUDITOR),
    "calendar": (Membership.QUALITY,),  # set the collection window
    "assessment": (Membership.QUALITY, Membership.LEADER, Membership.AUDITOR),
}


def roles(user) -> set[tuple[str, str | None]]:
    """(role, department name or None) of a signed-in user, read once per request."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_portal_roles", None)
    if cached is None:
        found = user.memberships.select_related("department")
        cached = {(m.role, m.department.name if m.department else None) for m in found}
        user._portal_roles = cached
    return cached


def can(user, action: str, department: str | None = None) -> bool:
    """Whether the user may take ``action`` (for ``department``: a department role counts only for its own)."""
    return any(
        role in ACTIONS[action] and (role in COLLEGE_WIDE or department is None or dept == department)
        for role, dept in roles(user)
    )


def require(user, action: str, department: str | None = None) -> None:
    if not can(user, action, department):
        raise PermissionDenied(f"无权进行此操作（{action}{'，' + department if department else ''}）")


def departments(user) -> list[Department]:
    """The departments a user may look at."""
    if any(role in COLLEGE_WIDE for role, _ in roles(user)):
        return list(Department.objects.all())
    return list(Department.objects.filter(name__in={d for _, d in roles(user) if d}))


def context(request) -> dict:
    """Template context: the user's roles in words, and which menus to show."""
    user = request.user
    labels = dict(Membership.ROLES)
    return dict(
        my_roles=sorted(f"{labels[r]}{'（' + d + '）' if d else ''}" for r, d in roles(user)),
        show_board=can(user, "board"),
        show_audit=can(user, "audit_log"),
    )


class HeaderSSOMiddleware(RemoteUserMiddleware):
    """Single sign-on through a trusted reverse proxy (CAS): the proxy sets the header named by
    STATEDATA_PORTAL_SSO_HEADER to the user name. Only users that already exist are signed in (roles are given
    in the portal); the header must never be reachable from outside the proxy (docs/portal.md)."""

    @property
    def header(self):
        return settings.PORTAL_SSO_HEADER


class HeaderSSOBackend(RemoteUserBackend):
    """Signs in the user the proxy names, if the portal knows them; never creates one."""

    create_unknown_user = False
