"""The review portal (`statedata portal`): where departments fix, explain and sign off their tables, the quality
office steers, the leader looks on and auditors read (docs/portal.md).

A Django application with its own state (users, explanations, waivers, sign-offs, evidence, the audit log) in
SQLite beside the warehouse, or in PostgreSQL (``STATEDATA_PORTAL_DATABASE_URL``). It only ever reads the
snapshot a completed run published (``warehouse.backup``), so the nightly run and the portal work at the same
time. Nothing here imports Dagster.

The functions below are what the rest of statedata (the command line) calls. Django's models can be imported
only once Django is set up, so each function sets it up and then imports the module it needs: the one place
where the portal's own modules are imported on use (tests/unit/test_architecture.py lists them).
"""

from dataclasses import dataclass, field
from pathlib import Path

from model.settings import Settings
from portal.config import in_use, setup

__all__ = [
    "PackageReview", "add_user", "demo_users", "in_use", "package_review", "reminders", "retest", "serve", "setup"
]  # fmt: skip


def retest(settings: Settings) -> dict | None:
    """Re-test the explanations and signatures on the data the last completed run published (review.retest)."""
    setup(settings)
    from portal import review

    return review.retest(settings)


def reminders(settings: Settings, con, academic_year: str) -> dict[str, list[str]]:
    """department -> the deadlines of the year's collection it should be reminded of (soon due, or overdue)."""
    setup(settings)
    from django.utils import timezone

    from portal import calendar

    return calendar.reminders(settings, con, academic_year, timezone.localdate())


@dataclass
class PackageReview:
    waived: set[str]  # failing error rules every failing row of which an approved waiver covers
    unsigned: list[tuple[str, str]]  # (department, why) without a valid 上报确认书
    record: dict  # the manifest's "review": signatures, waivers, explanations, evidence
    evidence: dict[str, Path] = field(default_factory=dict)  # name in the package -> the stored file


def package_review(settings: Settings, con, academic_year: str, failing_error_rules: list[str]) -> PackageReview:
    """What the review portal says about packaging the year from ``con`` (the data being packaged)."""
    setup(settings)
    from portal import review
    from portal.evidence import path_of

    review.retest(settings)
    waived = review.waived_rules(con, academic_year, failing_error_rules)
    record = review.manifest(settings, academic_year, waived)
    return PackageReview(
        waived=set(waived),
        unsigned=review.gate(settings, con, academic_year),
        record=record,
        evidence={f"{f['sha256']}.{f['kind']}": path_of(f["sha256"]) for f in record["evidence"]},
    )


def add_user(settings: Settings, username: str, password: str | None, role: str, department: str | None = None):
    setup(settings)
    from portal import users

    return users.add_user(username, password, role, department)


def demo_users(settings: Settings, academic_year: str) -> tuple[list[tuple[str, str, str]], str]:
    """The demo's users (one per college-wide role, a collector and a head per department) and their password."""
    setup(settings)
    from portal import data, users

    return users.demo_users(data.departments(settings, academic_year)), users.DEMO_PASSWORD


def serve(settings: Settings, host: str, port: int) -> None:
    """Django's threaded server (docs/portal.md, Deployment, for a WSGI server instead)."""
    setup(settings)
    from django.core.management import call_command

    from portal import review

    review.retest(settings)
    call_command("runserver", f"{host}:{port}", use_reloader=False, use_threading=True, skip_checks=True)
