"""Users and roles from the command line: the first quality-office account of a college, and the demo's users
(`statedata demo`: one per role and department, with one documented password, for trying the portal only)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import transaction

from portal import auditlog
from portal.models import Department, Membership

DEMO_PASSWORD = "statedata-demo"  # documented in docs/portal.md; the demo's users only
ROLE_NAMES = {"采集员": Membership.COLLECTOR, "负责人": Membership.HEAD}
COLLEGE_USERS = {"质量办": Membership.QUALITY, "校领导": Membership.LEADER, "审计": Membership.AUDITOR}


def add_user(username: str, password: str | None, role: str, department: str | None = None, hashed: str = ""):
    """Create (or give a role to) a user: its password given, or already ``hashed``. The quality office gets the
    admin pages for users and roles."""
    if role not in dict(Membership.ROLES):
        raise ValueError(f"unknown role {role!r}: one of {', '.join(dict(Membership.ROLES))}")
    if (role in Membership.DEPARTMENT_ROLES) != bool(department):
        raise ValueError(f"role {role} {'needs' if role in Membership.DEPARTMENT_ROLES else 'takes no'} --dept")
    User = get_user_model()
    with transaction.atomic():
        user, made = User.objects.get_or_create(username=username)
        if hashed:
            user.password = hashed
        elif password:
            user.set_password(password)
        elif made:
            user.set_unusable_password()
        if role == Membership.QUALITY:
            user.is_staff = True
            user.save()
            user.user_permissions.add(
                *Permission.objects.filter(
                    content_type__app_label__in=["auth", "portal"],
                    codename__regex=r"^(add|change|view|delete)_(user|membership|department)$",
                )
            )
        user.save()
        dept = Department.objects.get_or_create(name=department)[0] if department else None
        Membership.objects.get_or_create(user=user, role=role, department=dept)
        auditlog.record(None, "add_role", username, role=role, department=department or "")
    return user


def demo_users(departments: list[str]) -> list[tuple[str, str, str]]:
    """One collector and one head per department, and the college-wide roles. Returns (user, role, dept)."""
    made = []
    hashed = make_password(DEMO_PASSWORD)  # one hash for the one demo password (the framework's hasher is slow)
    for name, role in COLLEGE_USERS.items():
        add_user(name, None, role, hashed=hashed)
        made.append((name, dict(Membership.ROLES)[role], ""))
    for dept in departments:
        for word, role in ROLE_NAMES.items():
            username = f"{dept}{word}"
            add_user(username, None, role, dept, hashed=hashed)
            made.append((username, dict(Membership.ROLES)[role], dept))
    return made
