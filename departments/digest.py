"""Digests of failing rules, one per department, through a channel: a file outbox by default (one .eml
file per digest under STATEDATA_HOME/outbox), SMTP when STATEDATA_SMTP_HOST is set.

Open-source Dagster's run-failure sensors do not see failed asset checks (a run whose checks fail still
succeeds), so the digest sensor (pipelines/sensors.py) reads the audit tables instead: every rule
evaluation recorded since its cursor, grouped by academic year and owning department. A digest that says
what the department's last digest for the year said is not sent again (`changed`).
"""

import hashlib
import re
import smtplib
from datetime import datetime
from email.message import EmailMessage

import duckdb

from departments.report import digest_message
from expectations.rules import Rule, failures_report
from model.settings import DigestSettings


def pending(con: duckdb.DuckDBPyConnection, since: datetime | None) -> tuple[list[str], datetime | None]:
    """The academic years with rule evaluations recorded after ``since``, and the newest time seen."""
    rows = con.execute(
        "select academic_year, max(checked_at) from audit.rule_result where ? is null or checked_at > ? "
        "group by all order by 1",
        [since, since],
    ).fetchall()
    return [r[0] for r in rows], max((r[1] for r in rows), default=since)


def build_digests(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule],
    years: list[str],
    pii: dict[str, str],
    settings: DigestSettings,
    reminders: dict[str, dict[str, list[str]]] | None = None,
) -> list[tuple[str, str, EmailMessage]]:
    """(department, academic year, message) for every department with failing rules in those years, or with
    deadlines to be reminded of (``reminders``: year -> department -> lines, from the review portal's calendar)."""
    out = []
    for year in years:
        by_dept: dict[str, list[dict]] = {}
        for f in failures_report(con, rules, year):
            by_dept.setdefault(f["rule"].owner, []).append(f)
        notes = (reminders or {}).get(year, {})
        for dept in sorted(set(by_dept) | set(notes)):
            to = settings.recipients.get(dept) or settings.default_to
            msg = digest_message(dept, year, by_dept.get(dept, []), pii, settings.sender, to, notes.get(dept, []))
            out.append((dept, year, msg))
    return out


def _content(msg: EmailMessage) -> str:
    """What a digest says (subject, body and attachment), without the headers that change from send to send."""
    h = hashlib.sha256(str(msg["Subject"]).encode())
    for part in msg.walk():
        if not part.is_multipart():
            h.update(part.get_payload(decode=True) or b"")
    return h.hexdigest()


def changed(
    digests: list[tuple[str, str, EmailMessage]], years: list[str], sent: dict[str, str]
) -> tuple[list[tuple[str, str, EmailMessage]], dict[str, str]]:
    """The digests whose content differs from the last one sent to that department for that year (``sent``:
    ``"<year>|<department>"`` -> content hash), and the record after sending them. A department whose rules
    of an evaluated year all pass leaves the record, so a failure that comes back is sent again."""
    record = {k: v for k, v in sent.items() if k.split("|", 1)[0] not in years}
    out = []
    for dept, year, msg in digests:
        k, content = f"{year}|{dept}", _content(msg)
        record[k] = content
        if sent.get(k) != content:
            out.append((dept, year, msg))
    return out, record


def deliver(digests: list[tuple[str, str, EmailMessage]], settings: DigestSettings, stamp: str) -> list[str]:
    """Send each digest through the channel; returns where each went (file or recipients)."""
    if not digests:
        return []
    if not settings.smtp_host:
        settings.outbox.mkdir(parents=True, exist_ok=True)
        done = []
        for dept, year, msg in digests:
            stem = re.sub(r"[^\w.-]", "_", f"{stamp}_{year}_{dept}")
            path = settings.outbox / f"{stem}.eml"
            n = 1
            while path.exists():  # never overwrite a digest already in the outbox
                n += 1
                path = settings.outbox / f"{stem}-{n}.eml"
            path.write_bytes(msg.as_bytes())
            done.append(str(path))
        return done
    done = []
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        for dept, year, msg in digests:
            if not msg.get_all("To"):
                done.append(f"{dept}: no address (STATEDATA_DIGEST_TO), not sent")
                continue
            smtp.send_message(msg)
            done.append(f"{dept}: {msg['To']}")
    return done
