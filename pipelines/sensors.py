"""The digest sensor: after each night's checks, one digest per department with failing rules."""

import json
from datetime import datetime

import dagster as dg

import portal
from assets.resources import StatedataResource
from departments.digest import build_digests, changed, deliver, pending
from expectations.generated import rule_set
from model.canonical import load_model
from model.mapping import load_mappings, pii_fields
from model.settings import SettingsError
from warehouse import db
from warehouse.db import WarehouseError


@dg.sensor(
    name="rule_failure_digest",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends each department a digest of its failing rules (message, fix hint, failing source rows, "
    "masked) after every evaluation of the rules: to the outbox folder STATEDATA_HOME/outbox, or by mail when "
    "STATEDATA_SMTP_HOST is set. Failed asset checks do not fail a run, so run-failure sensors never see them.",
)
def rule_failure_digest(context: dg.SensorEvaluationContext, statedata: StatedataResource):
    try:
        settings = statedata.settings()
    except SettingsError as e:
        return dg.SkipReason(str(e))
    since, sent = _cursor(context.cursor)
    try:
        with db.connect(settings.warehouse, read_only=True) as con:
            years, newest = pending(con, since)
            if not years:
                return dg.SkipReason("no rule evaluated since the last digest")
            channel = settings.digest
            pii = pii_fields(load_mappings(settings.mappings_dir), load_model())
            # the review portal's deadlines soon due or overdue (when the college uses the portal)
            notes = {y: portal.reminders(settings, con, y) for y in years} if portal.in_use(settings) else None
            digests = build_digests(con, rule_set(settings), years, pii, channel, notes)
    except WarehouseError as e:  # a run holds the warehouse: the next tick tries again
        return dg.SkipReason(f"warehouse not readable now: {e}")
    news, record = changed(digests, years, sent)
    done = deliver(news, channel, stamp=newest.strftime("%Y%m%dT%H%M%S%f"))
    context.update_cursor(json.dumps({"since": newest.isoformat(), "sent": record}, ensure_ascii=False))
    for line in done:
        context.log.info(f"digest: {line}")
    same = len(digests) - len(news)
    return dg.SkipReason(
        f"{len(done)} digest(s) for {', '.join(years)} through {channel.channel}"
        + (f"; {same} unchanged since the department's last digest, not sent again" if same else "")
    )


def _cursor(text: str | None) -> tuple[datetime | None, dict[str, str]]:
    """The sensor's cursor: the newest evaluation seen and what each department was last sent (an earlier
    release kept only the time)."""
    if not text:
        return None, {}
    if not text.startswith("{"):
        return datetime.fromisoformat(text), {}
    c = json.loads(text)
    return datetime.fromisoformat(c["since"]), c.get("sent", {})
