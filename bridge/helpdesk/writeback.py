"""Writing a child's cross-system link back to Primero and OSCaR after a helpdesk decision.

A child that holds a Primero case and an OSCaR client gets the ids written into both systems:
OSCaR ``update_links`` (the client's ``global_id`` + the case's ``case_id`` as ``external_id``
and its short id as ``external_id_display``) and a case PATCH setting ``oscar_number`` in
Primero. A child left with one system only (after a split or an undone merge) gets them
cleared. Planning reads the store only; the writes go through the referral outbox (retried,
dead-lettered, audited like every delivery), so a decision is never held up by a system
being down: what fails stays queued and the next sync sends it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from adapters.errors import BridgeError
from bridge.children import members
from bridge.referrals.outbox import enqueue
from bridge.store.schema import SourceRecordRow

OUTBOX_KIND = "link_write"


@dataclass(frozen=True)
class LinkWrite:
    """One record's link fields as they should be in its system ("" clears)."""

    child_id: str
    system: str  # primero | oscar
    record_id: str  # Primero case ``id`` / OSCaR ``global_id``
    fields: dict[str, str]

    @property
    def destination(self) -> str:
        return f"{self.system}:{self.record_id}"

    @property
    def idempotency_key(self) -> str:
        digest = hashlib.sha256(json.dumps(self.fields, sort_keys=True).encode()).hexdigest()[:16]
        return f"links:{self.system}:{self.record_id}:{digest}"

    def payload(self) -> dict[str, Any]:
        return {
            "child_id": self.child_id,
            "system": self.system,
            "record_id": self.record_id,
            "fields": self.fields,
        }


def _identifiers(row: SourceRecordRow) -> dict[str, Any]:
    return dict((row.canonical or {}).get("identifiers") or {})


def _case_ids(row: SourceRecordRow) -> tuple[str, str]:
    """A Primero record's ``case_id`` and ``case_id_display`` (the record id if unmapped)."""
    ids = _identifiers(row)
    return ids.get("primero_case_id") or row.record_id, ids.get("primero_case_id_display") or ""


def _pick(candidates: list[SourceRecordRow], already: str | None, value_of: Any) -> Any:
    """Keep the counterpart a record already points at; else the first stored one."""
    for row in candidates:
        if already and value_of(row) == already:
            return row
    return min(candidates, key=lambda r: r.id)


def plan_link_writes(
    session: Session, child_id: str, involved: Collection[str] = ()
) -> list[LinkWrite]:
    """The writes that make each record of ``child_id`` point at its counterpart.

    Links are set whenever the child holds both systems (idempotent). Clearing happens for
    records that still point somewhere (as last synced) and for the ``involved`` record keys
    (records a decision just moved: what was written before may not be synced back yet).
    """
    rows = [r for r in members(session, child_id) if r.state == "mapped"]
    primero = [r for r in rows if r.system == "primero"]
    oscar = [r for r in rows if r.system == "oscar"]
    involved = set(involved)
    writes: list[LinkWrite] = []
    for row in oscar:
        current = _identifiers(row).get("primero_case_id")
        if primero:
            case = _pick(primero, current, lambda r: _case_ids(r)[0])
            case_id, display = _case_ids(case)
        elif current or row.key in involved:
            case_id, display = "", ""
        else:
            continue
        fields = {"global_id": row.record_id, "external_id": case_id}
        fields["external_id_display"] = display
        writes.append(LinkWrite(child_id, "oscar", row.record_id, fields))
    for row in primero:
        current = _identifiers(row).get("oscar_global_id")
        if oscar:
            number = _pick(oscar, current, lambda r: r.record_id).record_id
        elif current or row.key in involved:
            number = ""
        else:
            continue
        writes.append(LinkWrite(child_id, "primero", row.record_id, {"oscar_number": number}))
    return writes


def enqueue_link_writes(session: Session, writes: list[LinkWrite]) -> int:
    """Put the writes in the referral outbox (retried there); returns how many were queued."""
    for write in writes:
        enqueue(session, OUTBOX_KIND, write.destination, write.idempotency_key, write.payload())
    return len(writes)


@dataclass
class WriteBackOutcome:
    planned: list[LinkWrite] = field(default_factory=list)
    queued: int = 0  # handed to the referral outbox (it retries)
    delivery: Any = None  # bridge.referrals.delivery.DeliveryCounts: the outbox's run
    problem: str | None = None  # why nothing could be sent (a system unreachable, ...)
    note: str | None = None  # why nothing was meant to be sent (no source configured)

    @property
    def needs_attention(self) -> bool:
        undelivered = self.delivery is not None and self.delivery.delivered < self.queued
        return bool(self.problem) or undelivered


def write_back(
    store: Any,
    children: list[str],
    involved: Collection[str] = (),
    *,
    config: Any = None,
) -> WriteBackOutcome:
    """Plan the link writes for ``children`` and queue them in the outbox; deliver them now
    when ``config`` has a Primero or OSCaR source (what fails stays queued and is retried by
    the next syncs, then dead-lettered like any delivery)."""
    outcome = WriteBackOutcome()
    if not children:
        return outcome
    with store.session() as session:
        for child_id in children:
            outcome.planned.extend(plan_link_writes(session, child_id, involved))
        if outcome.planned:
            outcome.queued = enqueue_link_writes(session, outcome.planned)
    if not outcome.queued:
        return outcome
    if config is None or not any(
        s.kind in ("primero", "oscar") and s.enabled for s in config.sources
    ):
        outcome.note = "queued in the outbox; the next `bridge sync` delivers them"
        return outcome
    from bridge.referrals.service import deliver_now

    try:
        outcome.delivery = deliver_now(config, store)
    except BridgeError as exc:
        outcome.problem = str(exc)
    return outcome
