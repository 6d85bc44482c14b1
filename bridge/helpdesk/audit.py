"""The audit trail: who decided or looked at what, when and why. Rows are only ever added.

The database refuses UPDATE and DELETE on ``audit_log`` (triggers in migration 0002), so the
bridge cannot rewrite history even by mistake. Details hold ids only (child ids, record keys,
decision and review ids), never names or dates of birth.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bridge.children import resolve
from bridge.identity import normalise_child_id
from bridge.store.schema import AuditRow, ChildRow

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
    row = AuditRow(
        actor=actor,
        action=action,
        child_id=child_id,
        reason=reason,
        details={**(details or {}), "via": _channel.get()},
    )
    session.add(row)
    session.flush()
    return row


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
