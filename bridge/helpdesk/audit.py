"""The audit trail: who decided or looked at what, when and why. Rows are only ever added.

The database refuses UPDATE and DELETE on ``audit_log`` (triggers in migration 0002), so the
bridge cannot rewrite history even by mistake. Details hold ids only (child ids, record keys,
decision and review ids), never names or dates of birth.

Rows are also a hash chain: each holds the SHA-256 of the row before it and of its own
content, and ``audit_head`` the last one, so `bridge audit verify` finds a row changed,
removed or slipped in by someone who got past the triggers (with the database file itself).
Whoever keeps the head's hash elsewhere (it is printed by `verify`) can tell even a chain
rebuilt from scratch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bridge.children import resolve
from bridge.identity import normalise_child_id
from bridge.store.schema import AuditHeadRow, AuditRow, ChildRow

# where the actor was when they acted: "cli" (the name from --by or $BRIDGE_USER, as typed)
# or "desk" (a user logged in to `bridge serve`); every audit row says which
_channel: ContextVar[str] = ContextVar("audit_channel", default="cli")


@contextmanager
def audit_channel(name: str) -> Iterator[None]:
    token = _channel.set(name)
    try:
        yield
    finally:
        _channel.reset(token)


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    child_id: str | None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditRow:
    """Add one audit row in the caller's transaction (it commits or rolls back with it)."""
    head = session.get(AuditHeadRow, HEAD, with_for_update=True)
    if head is None:
        head = AuditHeadRow(id=HEAD, last_id=None, last_hash=GENESIS, rows=0)
        session.add(head)
    row = AuditRow(
        at=datetime.now(UTC),
        actor=actor,
        action=action,
        child_id=child_id,
        reason=reason,
        details={**(details or {}), "via": _channel.get()},
        prev_hash=head.last_hash,
    )
    row.row_hash = row_hash(row)
    session.add(row)
    session.flush()
    head.last_id, head.last_hash, head.rows = row.id, row.row_hash, head.rows + 1
    return row


def record_disclosure(
    session: Session, *, actor: str, action: str, keys: list[str], details: dict[str, Any]
) -> int:
    """Personal data of these records (``system:record_id``) was shown: one audit row per
    child they belong to (so `bridge audit list --child` finds it), and one for those that
    belong to none in this store. Returns the rows written."""
    from bridge.reports import child_of_keys

    wanted = set(keys)
    children = child_of_keys(session, wanted) if wanted else {}
    by_child: dict[str | None, list[str]] = {}
    for key in sorted(wanted):
        by_child.setdefault(children.get(key), []).append(key)
    for child_id, records in by_child.items():
        record_audit(
            session,
            actor=actor,
            action=action,
            child_id=child_id,
            details={**details, "records": records[:200], "record_count": len(records)},
        )
    return len(by_child)


# -- the hash chain -----------------------------------------------------------------------
HEAD = 1
GENESIS = "0" * 64


def _moment(at: datetime) -> str:
    """The row's time as the store gives it back (SQLite: naive UTC; PostgreSQL: aware)."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def row_hash(row: AuditRow) -> str:
    """SHA-256 over the previous row's hash and this row's content."""
    content = json.dumps(
        [_moment(row.at), row.actor, row.action, row.child_id, row.reason, row.details or {}],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{row.prev_hash}\n{content}".encode()).hexdigest()


@dataclass
class ChainCheck:
    rows: int = 0  # rows checked in the chain
    before_chain: int = 0  # rows from before the chain began (migration 0007): no hash
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(session: Session) -> ChainCheck:
    """Walk the trail in id order: each row's hash is recomputed, each row names the hash of
    the row before it, and the last one is the head. An edited, removed or inserted row, or
    the head moved, is a problem named by row id."""
    check = ChainCheck()
    previous: str | None = None
    last_id: int | None = None
    for row in session.scalars(select(AuditRow).order_by(AuditRow.id)).yield_per(2000):
        if row.row_hash is None and previous is None:
            check.before_chain += 1
            continue
        expected_prev = previous if previous is not None else GENESIS
        if row.row_hash is None:
            check.problems.append(f"row {row.id}: its hash was removed")
        elif row.prev_hash != expected_prev:
            check.problems.append(f"row {row.id}: the row before it was changed or removed")
        elif row_hash(row) != row.row_hash:
            check.problems.append(f"row {row.id}: its content was changed")
        previous, last_id = row.row_hash or "", row.id
        check.rows += 1
    head = session.get(AuditHeadRow, HEAD)
    if head is not None and (head.last_id != last_id or head.rows != check.rows):
        check.problems.append(
            f"the chain ends at row {last_id} with {check.rows} row(s), its head says row "
            f"{head.last_id} with {head.rows}: rows were removed from the end or added beside it"
        )
    elif head is None and check.rows:
        check.problems.append("the chain's head is missing")
    return check


def ids_of_child(session: Session, child_id: str) -> set[str]:
    """The id asked for, the child it names now, and every alias of that child."""
    wanted = {normalise_child_id(child_id)}
    current = resolve(session, child_id)
    if current is not None:
        wanted.add(current.child_id)
        wanted.update(
            session.scalars(
                select(ChildRow.child_id).where(ChildRow.merged_into == current.child_id)
            )
        )
    return wanted


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    child_id: str | None
    reason: str | None
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "child_id": self.child_id,
            "reason": self.reason,
            "details": self.details,
        }


def list_audit(
    session: Session,
    *,
    child_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Audit rows, oldest first; ``child_id`` also finds rows written under its aliases."""
    query = select(AuditRow).order_by(AuditRow.id)
    if child_id:
        query = query.where(
            or_(*(AuditRow.child_id == cid for cid in ids_of_child(session, child_id)))
        )
    if actor:
        query = query.where(AuditRow.actor == actor)
    if action:
        query = query.where(AuditRow.action == action)
    rows = list(session.scalars(query))
    if limit is not None:
        rows = rows[-limit:]
    return [
        AuditEntry(
            id=r.id,
            at=f"{r.at:%Y-%m-%d %H:%M:%S}",
            actor=r.actor,
            action=r.action,
            child_id=r.child_id,
            reason=r.reason,
            details=dict(r.details or {}),
        )
        for r in rows
    ]
