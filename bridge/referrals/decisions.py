"""Decisions and links flowing back, read from what the sources served since the last run.

    OSCaR accepts / exits a referral from Primero  -> PATCH the Primero referral accepted /
                                                      rejected, read back to confirm
    Primero accepts / rejects a referral from OSCaR -> OSCaR update_statuses, read back
    a Primero referral delivered into OSCaR         -> oscar_number written onto the case
    an OSCaR referral delivered into Primero        -> the case id written onto the client
                                                      (update_links)

Each is an outbox row keyed by what it writes, so it is sent once, retried, dead-lettered and
replayed like a referral.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.mapping import SourceMapping
from bridge.referrals.finder import Snapshot
from bridge.referrals.outbox import enqueue_message
from bridge.referrals.senders import find_oscar_referral
from bridge.referrals.tables import DECISION, DELIVERED, LINK, REFERRAL, OutboxRow

OSCAR_DECISIONS = {"Accepted": "accepted", "Active": "accepted", "Exited": "rejected"}


def _delivered(session: Session, source: str, destination: str) -> list[OutboxRow]:
    return list(
        session.scalars(
            select(OutboxRow).where(
                OutboxRow.kind == REFERRAL,
                OutboxRow.state == DELIVERED,
                OutboxRow.source_system == source,
                OutboxRow.destination_system == destination,
            )
        )
    )


def own_oscar_referral_ids(session: Session) -> set[str]:
    """OSCaR referral ids the bridge made itself (never found again as referrals out)."""
    return {
        str(row.result["referral_id"])
        for row in _delivered(session, "primero", "oscar")
        if (row.result or {}).get("referral_id")
    }


def from_oscar(session: Session, clients: list[Snapshot]) -> int:
    """Resolve OSCaR ids of referrals delivered there; queue OSCaR's decisions and links."""
    if not clients:
        return 0
    feed = [c.payload for c in clients]
    queued = 0
    for row in _delivered(session, "primero", "oscar"):
        result = dict(row.result or {})
        if not result.get("referral_id"):
            found = find_oscar_referral(row, feed)
            if found is None:
                continue
            result.update(found)
            row.result = result
        client = next((c for c in feed if c.get("global_id") == result.get("global_id")), None)
        if client is None:
            continue
        case_id = row.source_record_id
        known = ((row.request.get("child") or {}).get("identifiers") or {}).get("oscar_global_id")
        if known != result["global_id"]:
            queued += _queue(session, row, LINK, f"link:{row.source_key}:oscar_number", "primero", {
                "case_id": case_id, "global_id": result["global_id"],
            })  # fmt: skip
        status = _oscar_status(client, result.get("referral_id"))
        decision = OSCAR_DECISIONS.get(status or "")
        if decision:
            referral = row.request["referral"]
            queued += _queue(session, row, DECISION, f"decision:{row.source_key}:{decision}",
                             "primero", {
                "case_id": case_id,
                "referral_id": referral["source_referral_id"],
                "status": decision,
                "reason": f"{status} in OSCaR" if decision == "rejected" else None,
            })  # fmt: skip
    return queued


def _oscar_status(client: dict, referral_id: str | None) -> str | None:
    for service in client.get("services") or []:
        if isinstance(service, dict) and str(service.get("referral_id")) == str(referral_id):
            return service.get("referral_status")
    return None


def from_primero(session: Session, cases: list[Snapshot], primero: SourceMapping) -> int:
    """Queue Primero's decisions on OSCaR referrals, and the case ids written onto clients."""
    by_id = {c.record_id: c.payload for c in cases}
    if not by_id:
        return 0
    statuses = primero.spec.vocabularies.get("statuses.referral")
    queued = 0
    for row in _delivered(session, "oscar", "primero"):
        case = by_id.get((row.result or {}).get("case_id", ""))
        if case is None:
            continue
        referral = row.request["referral"]
        gid = referral["source_record_id"]
        queued += _queue(session, row, LINK, f"link:{row.source_key}:external_id", "oscar", {
            "global_id": gid, "case_id": case.get("case_id") or case.get("id"),
            "case_id_display": case.get("case_id_display"),
        })  # fmt: skip
        service = next(
            (
                s
                for s in case.get("services_section") or []
                if isinstance(s, dict) and s.get("unique_id") == row.result.get("row_id")
            ),
            None,
        )
        raw = (service or {}).get("referral_status_edf41f2")
        decision = _primero_decision(statuses, raw)
        if decision in ("accepted", "rejected"):
            queued += _queue(session, row, DECISION, f"decision:{row.source_key}:{decision}",
                             "oscar", {
                "global_id": gid, "referral_id": referral["source_referral_id"],
                "status": decision,
            })  # fmt: skip
    return queued


def _primero_decision(statuses: object, raw: object) -> str | None:
    if not isinstance(raw, str) or statuses is None:
        return None
    return statuses.to_canonical("primero_service", raw)  # type: ignore[attr-defined]


def _queue(
    session: Session, parent: OutboxRow, kind: str, key: str, destination: str, request: dict
) -> int:
    row = enqueue_message(
        session,
        kind=kind,
        source_key=key,
        parent=parent,
        destination_system=destination,
        destination_org=None,
        request=request,
    )
    return row is not None


def flow_back(session: Session, snapshots: Iterable[Snapshot], primero: SourceMapping) -> int:
    snapshots = list(snapshots)
    queued = from_oscar(session, [s for s in snapshots if s.system == "oscar"])
    queued += from_primero(session, [s for s in snapshots if s.system == "primero"], primero)
    return queued
