"""Writing a child's cross-system link back to Primero and OSCaR after a helpdesk decision.

A child that holds a Primero case and an OSCaR client gets the ids written into both systems:
OSCaR ``update_links`` (the client's ``global_id`` + the case's ``case_id`` as ``external_id``
and its short id as ``external_id_display``) and a case PATCH setting ``oscar_number`` in
Primero. A child left with one system only (after a split or an undone merge) gets them
cleared. Planning reads the store only; delivery talks to the systems, so a decision is
never held up by a system being down: what failed is reported and can be planned again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from adapters.errors import BridgeError
from bridge.children import members
from bridge.store.schema import SourceRecordRow

OUTBOX_KIND = "link_write"


class PrimeroWriter(Protocol):
    def patch_case(self, case_id: str, fields: dict[str, Any]) -> dict[str, Any]: ...


class OscarWriter(Protocol):
    def update_links(self, links: list[dict[str, Any]]) -> dict[str, Any]: ...


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


@dataclass
class DeliveryReport:
    delivered: list[LinkWrite] = field(default_factory=list)
    failed: list[tuple[LinkWrite, str]] = field(default_factory=list)
    skipped: list[tuple[LinkWrite, str]] = field(default_factory=list)  # no system configured

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


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


def deliver_link_writes(
    writes: list[LinkWrite],
    primero_adapter: PrimeroWriter | None,
    oscar_adapter: OscarWriter | None,
) -> DeliveryReport:
    """Send the writes now: one ``update_links`` call for OSCaR, one PATCH per Primero case."""
    report = DeliveryReport()
    to_oscar = [w for w in writes if w.system == "oscar"]
    if to_oscar and oscar_adapter is None:
        report.skipped.extend((w, "no OSCaR source configured") for w in to_oscar)
    elif to_oscar:
        assert oscar_adapter is not None
        try:
            oscar_adapter.update_links([dict(w.fields) for w in to_oscar])
            report.delivered.extend(to_oscar)
        except BridgeError as exc:
            report.failed.extend((w, str(exc)) for w in to_oscar)
    for write in (w for w in writes if w.system == "primero"):
        if primero_adapter is None:
            report.skipped.append((write, "no Primero source configured"))
            continue
        try:
            primero_adapter.patch_case(write.record_id, dict(write.fields))
            report.delivered.append(write)
        except BridgeError as exc:
            report.failed.append((write, str(exc)))
    return report


def outbox_enqueue() -> Any | None:
    """``bridge.referrals.outbox.enqueue`` when the referral outbox exists, else None."""
    try:
        from bridge.referrals import outbox  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(outbox, "enqueue", None)


def enqueue_link_writes(session: Session, writes: list[LinkWrite]) -> int:
    """Put the writes in the referral outbox (retried there); returns how many were queued."""
    enqueue = outbox_enqueue()
    if enqueue is None:
        return 0
    for write in writes:
        enqueue(session, OUTBOX_KIND, write.destination, write.idempotency_key, write.payload())
    return len(writes)


@dataclass
class WriteBackOutcome:
    planned: list[LinkWrite] = field(default_factory=list)
    queued: int = 0  # handed to the referral outbox (it retries)
    report: DeliveryReport | None = None  # delivered now, without the outbox
    delivery: Any = None  # bridge.referrals.delivery.DeliveryCounts: the outbox's run
    problem: str | None = None  # why nothing could be sent (a system unreachable, ...)
    note: str | None = None  # why nothing was meant to be sent (no source configured)

    @property
    def needs_attention(self) -> bool:
        undelivered = self.delivery is not None and self.delivery.delivered < self.queued
        return bool(self.problem) or undelivered or (self.report is not None and not self.report.ok)


def write_back(
    store: Any,
    sources: list[Any],
    children: list[str],
    involved: Collection[str] = (),
    *,
    config: Any = None,
) -> WriteBackOutcome:
    """Plan the link writes for ``children``; queue them in the outbox if there is one, else
    send them now through the configured Primero and OSCaR sources."""
    outcome = WriteBackOutcome()
    if not children:
        return outcome
    with store.session() as session:
        for child_id in children:
            outcome.planned.extend(plan_link_writes(session, child_id, involved))
        if outcome.planned and outbox_enqueue() is not None:
            outcome.queued = enqueue_link_writes(session, outcome.planned)
    if outcome.queued:
        # through the outbox: sent now when the systems are configured; a failure stays
        # there and is retried by the next syncs, then dead-lettered like any delivery
        if config is not None and any(
            s.kind in ("primero", "oscar") and s.enabled for s in config.sources
        ):
            from bridge.referrals.service import deliver_now

            outcome.delivery = deliver_now(config, store)
        else:
            outcome.note = "queued in the outbox; the next `bridge sync` delivers them"
        return outcome
    if not outcome.planned:
        return outcome
    chosen = {
        kind: next((s for s in sources if s.kind == kind and s.enabled), None)
        for kind in ("primero", "oscar")
    }
    if not any(chosen.values()):
        outcome.note = "no Primero or OSCaR source configured"
        return outcome
    from bridge.sync import build_adapter

    adapters: dict[str, Any] = {}
    try:
        for kind, source in chosen.items():
            if source is not None:
                adapters[kind] = build_adapter(source)
        outcome.report = deliver_link_writes(
            outcome.planned, adapters.get("primero"), adapters.get("oscar")
        )
    except BridgeError as exc:
        outcome.problem = str(exc)
    finally:
        for adapter in adapters.values():
            adapter.close()
    return outcome
