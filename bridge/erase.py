"""Erasure of one child's personal content, keeping an audit skeleton.

Every record of the child loses its raw payload, canonical form and issues (state
``erased``, unlinked, never matched again), the child's id stays as an ``erased`` child (ids
are never reused; aliases still name it), its referrals lose the snapshot and payload they
carried (one not yet sent is held, never to be sent), its open review items go stale. The
audit trail is untouched (it holds ids, not content) and gains a row for the erasure.

The bridge mirrors its sources: erase the child in Primero and OSCaR first, or the next sync
stores the records again as the source serves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, text
from sqlalchemy.orm import Session

from bridge.children import members, resolve
from bridge.helpdesk.audit import ids_of_child, record_audit
from bridge.helpdesk.service import HelpdeskError, require_attribution
from bridge.identity import normalise_child_id
from bridge.referrals.tables import DELIVERED, HELD, OutboxRow
from bridge.store.schema import LinkRow, ReviewItemRow

ERASED = "erased"


@dataclass
class Erasure:
    child_id: str
    records: list[str]
    referrals: int
    reviews: int


def erase_child(session: Session, child_id: str, *, by: str | None, reason: str | None) -> Erasure:
    by, reason = require_attribution(by, reason)
    child = resolve(session, child_id)
    if child is None:
        raise HelpdeskError(f"no child {normalise_child_id(child_id)}")
    if child.state == ERASED:
        raise HelpdeskError(f"child {child.child_id} is erased already")
    if session.get_bind().dialect.name == "sqlite":
        # overwrite freed content with zeros instead of leaving it in free pages
        session.execute(text("PRAGMA secure_delete = ON"))
    ids = ids_of_child(session, child.child_id)
    rows = members(session, child.child_id)
    keys = [r.key for r in rows]
    mine = {(r.system, r.record_id) for r in rows}
    for row in rows:
        row.payload, row.payload_hash, row.canonical, row.issues = {}, ERASED, None, []
        row.state = ERASED
    if rows:
        session.execute(delete(LinkRow).where(LinkRow.record_pk.in_([r.id for r in rows])))
    child.state = ERASED
    referrals = 0
    for item in session.scalars(select(OutboxRow)):
        if item.child_id in ids or (item.source_system, item.source_record_id) in mine:
            item.payload = None
            item.request = {k: v for k, v in (item.request or {}).items() if k != "child"}
            if item.state != DELIVERED:
                item.state, item.held_reason = HELD, "the child's data was erased"
            referrals += 1
    reviews = 0
    if keys:
        for review in session.scalars(
            select(ReviewItemRow).where(
                ReviewItemRow.state == "open",
                or_(ReviewItemRow.key_a.in_(keys), ReviewItemRow.key_b.in_(keys)),
            )
        ):
            review.state = "stale"
            reviews += 1
    record_audit(
        session,
        actor=by,
        action="erase",
        child_id=child.child_id,
        reason=reason,
        details={"records": keys, "referrals": referrals, "review_items": reviews},
    )
    return Erasure(child.child_id, keys, referrals, reviews)


def scrub(store: Any) -> None:
    """After an erasure commits: SQLite copies the old pages into its write-ahead log until a
    checkpoint; this one writes them back (zeroed) and truncates the log."""
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
