"""Subject access: everything the bridge holds on one child, as one JSON document.

Records (raw payload as the source served it, canonical form, mapping issues), links and
how they were made, the child's ids and aliases, helpdesk decisions and review items about
its records, referrals and what was sent, and the audit rows about the child. Writing it is
audited (who, which child, never what).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bridge.children import members, resolve
from bridge.helpdesk.audit import ids_of_child, list_audit, record_audit
from bridge.helpdesk.service import HelpdeskError, require_actor
from bridge.identity import normalise_child_id
from bridge.referrals.tables import OutboxRow
from bridge.store.schema import ChildRow, DecisionRow, LinkRow, ReviewItemRow


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def subject_export(session: Session, child_id: str, *, by: str | None) -> dict[str, Any]:
    by = require_actor(by)
    child = resolve(session, child_id)
    if child is None:
        raise HelpdeskError(f"no child {normalise_child_id(child_id)}")
    ids = sorted(ids_of_child(session, child.child_id))
    rows = members(session, child.child_id)
    keys = [r.key for r in rows]
    links = {link.record_pk: link for link in session.scalars(
        select(LinkRow).where(LinkRow.record_pk.in_([r.id for r in rows]))
    )}  # fmt: skip
    records = [
        {
            "system": r.system,
            "record_id": r.record_id,
            "source": r.source,
            "state": r.state,
            "fetched_at": _when(r.fetched_at),
            "changed_at": _when(r.changed_at),
            "payload": r.payload,
            "canonical": r.canonical,
            "issues": r.issues,
            "link": {
                "method": links[r.id].method,
                "decided_by": links[r.id].decided_by,
                "linked_at": _when(links[r.id].linked_at),
            }
            if r.id in links
            else None,
        }
        for r in rows
    ]
    key_set = set(keys)
    decisions = [
        {
            "id": d.id,
            "kind": d.kind,
            "decided_by": d.decided_by,
            "reason": d.reason,
            "decided_at": _when(d.decided_at),
            "undone_by": d.undone_by,
        }
        for d in session.scalars(select(DecisionRow).order_by(DecisionRow.id))
        if key_set & set((d.details or {}).get("records", []))
        or set(ids) & set((d.details or {}).get("children", []))
    ]
    reviews = [
        {"id": i.id, "kind": i.kind, "state": i.state, "score": i.score,
         "records": [i.key_a, i.key_b], "created_at": _when(i.created_at)}
        for i in session.scalars(
            select(ReviewItemRow).where(
                or_(ReviewItemRow.key_a.in_(keys), ReviewItemRow.key_b.in_(keys))
            )
        )
    ] if keys else []  # fmt: skip
    mine = [(r.system, r.record_id) for r in rows]
    referrals = [
        {
            "id": o.id,
            "kind": o.kind,
            "state": o.state,
            "source": o.source_key,
            "destination": f"{o.destination_system}:{o.destination_org}",
            "held_reason": o.held_reason,
            "delivered_at": _when(o.delivered_at),
            "request": o.request,
            "sent": o.payload,
        }
        for o in session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        if o.child_id in ids or (o.source_system, o.source_record_id) in mine
    ]
    audit = [e.as_dict() for e in list_audit(session, child_id=child.child_id)]
    aliases = sorted(
        session.scalars(select(ChildRow.child_id).where(ChildRow.merged_into == child.child_id))
    )
    record_audit(
        session,
        actor=by,
        action="subject_export",
        child_id=child.child_id,
        details={"records": keys, "asked_for": normalise_child_id(child_id)},
    )
    return {
        "child_id": child.child_id,
        "state": child.state,
        "aliases": aliases,
        "records": records,
        "decisions": decisions,
        "review_items": reviews,
        "referrals": referrals,
        "audit": audit,
    }
