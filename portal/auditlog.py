"""The audit log: every action in the portal (and every automatic voiding or reopening by the nightly re-test),
append-only and hash-chained. Each entry's ``chain`` is the SHA-256 of the previous entry's chain and this
entry's content, so an entry edited, deleted or inserted afterwards breaks the chain from that point on:
``verify()`` names the first entry that no longer fits. The newest entry's chain is also written to a file
beside the state (``audit.head``), so that removing the last entries is noticed as well."""

import hashlib
import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from portal.config import state_dir, statedata
from portal.models import AuditEntry

GENESIS = "0" * 64
SYSTEM = "statedata"  # the user name of what the portal does by itself (re-tests after a run)


def _digest(previous: str, at, username: str, action: str, target: str, data_sha256: str, detail: dict) -> str:
    content = json.dumps(
        [previous, at.isoformat(), username, action, target, data_sha256, detail],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def record(user, action: str, target: str, data_sha256: str = "", **detail) -> AuditEntry:
    """Append one entry. ``user``: a user object, or None for the portal itself."""
    username = SYSTEM if user is None else user.get_username()
    detail = json.loads(json.dumps(detail, ensure_ascii=False, default=str))  # exactly what is stored
    with transaction.atomic():
        last = AuditEntry.objects.select_for_update().order_by("-id").first()
        previous = last.chain if last else GENESIS
        now = timezone.now()
        at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        chain = _digest(previous, at, username, action, target, data_sha256, detail)
        entry = AuditEntry.objects.create(
            at=at,
            username=username,
            action=action,
            target=target,
            data_sha256=data_sha256,
            detail=detail,
            previous=previous,
            chain=chain,
        )
        _head().write_text(f"{entry.id} {chain}\n", encoding="utf-8")
        return entry


def verify() -> tuple[int, str | None]:
    """(entries checked, None) when the chain is whole, else (entries checked, what is wrong where)."""
    previous, n = GENESIS, 0
    for e in AuditEntry.objects.order_by("id").iterator():
        n += 1
        if e.previous != previous:
            return n, f"第 {e.id} 条之前的记录被删除或插入（链断开）"
        if _digest(previous, e.at, e.username, e.action, e.target, e.data_sha256, e.detail) != e.chain:
            return n, f"第 {e.id} 条记录的内容被修改（哈希不符）"
        previous = e.chain
    head = _head()
    if head.exists():
        last_id, last_chain = head.read_text(encoding="utf-8").split()
        if last_chain != previous:
            return n, f"最后一条记录（第 {last_id} 条）之后的记录被删除，或最后的记录被替换"
    return n, None


def _head() -> Path:
    """The newest entry's id and chain, kept outside the database: a deleted last entry is noticed too."""
    return state_dir(statedata()) / "audit.head"
