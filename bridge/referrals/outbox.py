"""The outbox: rows in, leased out to a worker, their outcome recorded; the commands' queries.

Exactly once rests on three things: the idempotency key is unique (a re-run or a second
worker can never add a second row for the same referral and destination); a row is leased
with a conditional UPDATE before an attempt, so two workers never send it at the same time;
and an attempt is recorded as ``sending`` *before* the request leaves, so a crash mid-request
leaves a row that the next worker treats as "outcome unknown" and looks up in the destination
before sending again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bridge.model import Child
from bridge.referrals.finder import CanonicalReferral, idempotency_key
from bridge.referrals.routing import RoutingConfig
from bridge.referrals.tables import (
    DEAD,
    DELIVERED,
    HELD,
    LINK,
    PENDING,
    REFERRAL,
    SENDING,
    UNKNOWN,
    OutboxRow,
)
from bridge.store.db import Store
from bridge.store.schema import SourceRecordRow

log = logging.getLogger(__name__)
OPEN_STATES = (PENDING, SENDING, UNKNOWN)


def now_utc() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _child_json(child: Child | None) -> dict[str, Any] | None:
    return json.loads(child.model_dump_json()) if child is not None else None


def _route(row: OutboxRow, referral: CanonicalReferral, routing: RoutingConfig) -> None:
    """Decide where a found referral goes, or hold it with the reason."""
    if not referral.consent:
        row.state, row.held_reason = HELD, referral.consent_detail
        row.idempotency_key = row.destination_system = row.destination_org = None
        return
    route = routing.route(
        referral.source_system, referral.agency, _canonical_service(row), referral.province_code
    )
    if isinstance(route, str):
        row.state, row.held_reason = HELD, route
        row.idempotency_key = row.destination_system = row.destination_org = None
        return
    row.destination_system, row.destination_org = route.system, route.organisation
    row.idempotency_key = idempotency_key(referral, route.system, route.organisation)
    row.request = {**row.request, "route": route.why}
    row.state, row.held_reason = PENDING, None
    row.next_attempt_at = now_utc()


def _canonical_service(row: OutboxRow) -> str | None:
    return (row.request or {}).get("canonical_service")


def enqueue_referral(
    session: Session,
    referral: CanonicalReferral,
    child: Child | None,
    routing: RoutingConfig,
    canonical_service: str | None,
) -> OutboxRow:
    """Add a found referral (routed, or held with the reason). Seen before: a held row is
    routed again with the new data; any other row is left as it is."""
    row = session.scalars(
        select(OutboxRow).where(OutboxRow.source_key == referral.source_key)
    ).first()
    request = {
        "referral": referral.model_dump(mode="json"),
        "child": _child_json(child),
        "canonical_service": canonical_service,
    }
    if row is None:
        row = OutboxRow(
            kind=REFERRAL,
            source_key=referral.source_key,
            source_system=referral.source_system,
            source_record_id=referral.source_record_id,
            child_id=referral.child_id,
            request=request,
            result={},
            attempts=0,
            checks=0,
            state=PENDING,
        )
        session.add(row)
    elif row.state != HELD:
        return row
    else:
        row.request = request
        row.updated_at = now_utc()
    _route(row, referral, routing)
    session.flush()
    return row


# -- consent withdrawn at source -----------------------------------------------------------
WITHDRAWN = "consent withdrawn at source"


def withdrawal(system: str, record: SourceRecordRow | None) -> str | None:
    """Why the source record now withholds consent for its referrals, or None.

    Primero: ``consent_for_services`` or ``disclosure_other_orgs`` false on the case (not
    overridden on the case); OSCaR: the client no longer carries its referral consent form."""
    if record is None or record.state != "mapped":
        return None
    if system == "primero":
        consent = (record.canonical or {}).get("consent") or {}
        if consent.get("overridden"):
            return None
        fields = (("consent_for_services", "services"), ("disclosure_other_orgs", "disclosure"))
        gone = [name for name, key in fields if consent.get(key) is False]
        return f"{WITHDRAWN}: {' and '.join(gone)} now false" if gone else None
    if system == "oscar" and not (record.payload or {}).get("referral_consent_form"):
        return f"{WITHDRAWN}: the client no longer has a referral consent form"
    return None


def _source_records(
    session: Session, rows: list[OutboxRow]
) -> dict[tuple[str, str], SourceRecordRow]:
    wanted = {(r.source_system, r.source_record_id) for r in rows}
    ids = sorted({record_id for _, record_id in wanted})
    out: dict[tuple[str, str], SourceRecordRow] = {}
    for start in range(0, len(ids), 500):
        for record in session.scalars(
            select(SourceRecordRow).where(SourceRecordRow.record_id.in_(ids[start : start + 500]))
        ):
            if (record.system, record.record_id) in wanted:
                out[(record.system, record.record_id)] = record
    return out


def hold_withdrawn(session: Session) -> list[int]:
    """Referrals not yet delivered whose child's source record now withholds consent are
    held with the reason (a dead letter too, so that a replay never sends it). Returns the
    rows held now. A row being sent at this moment cannot be stopped; it is found by the
    next run."""
    rows = list(
        session.scalars(
            select(OutboxRow).where(
                OutboxRow.kind == REFERRAL, OutboxRow.state.in_((PENDING, UNKNOWN, DEAD))
            )
        )
    )
    if not rows:
        return []
    records = _source_records(session, rows)
    held = []
    for row in rows:
        reason = withdrawal(
            row.source_system, records.get((row.source_system, row.source_record_id))
        )
        if reason:
            row.state, row.held_reason = HELD, reason
            row.lease_owner = row.lease_until = None
            row.updated_at = now_utc()
            held.append(row.id)
    if held:
        log.warning(
            "%d referral(s) held: consent withdrawn at source", len(held),
            extra={"event": "consent_withdrawn", "counts": {"held": len(held)}},
        )  # fmt: skip
    return held


def shared_before_withdrawal(session: Session) -> list[OutboxRow]:
    """Referrals delivered for children whose source record now withholds consent: what was
    shared before the withdrawal (for the person who must tell the receiving organisation)."""
    rows = list(
        session.scalars(
            select(OutboxRow).where(OutboxRow.kind == REFERRAL, OutboxRow.state == DELIVERED)
        )
    )
    records = _source_records(session, rows)
    return [
        r
        for r in rows
        if withdrawal(r.source_system, records.get((r.source_system, r.source_record_id)))
    ]


def reroute_held(session: Session, routing: RoutingConfig) -> int:
    """Route held referrals again (a rule may have been added, consent given again). Rows
    whose source now withholds consent stay held. Returns how many left hold."""
    hold_withdrawn(session)
    moved = 0
    held = [r for r in session.scalars(select(OutboxRow).where(OutboxRow.state == HELD))]
    records = _source_records(session, held)
    for row in held:
        if row.kind != REFERRAL:
            continue
        reason = withdrawal(
            row.source_system, records.get((row.source_system, row.source_record_id))
        )
        if reason:
            row.held_reason = reason
            continue
        referral = CanonicalReferral.model_validate(row.request["referral"])
        _route(row, referral, routing)
        moved += row.state != HELD
    return moved


def enqueue_message(
    session: Session,
    *,
    kind: str,
    source_key: str,
    parent: OutboxRow,
    destination_system: str,
    destination_org: str | None,
    request: dict[str, Any],
) -> OutboxRow | None:
    """Add a decision or link to write back; None when it is already in the outbox."""
    if session.scalars(select(OutboxRow.id).where(OutboxRow.source_key == source_key)).first():
        return None
    row = OutboxRow(
        kind=kind,
        source_key=source_key,
        idempotency_key=f"{source_key}->{destination_system}",
        parent_id=parent.id,
        source_system=parent.destination_system or "",
        source_record_id=parent.source_record_id,
        child_id=parent.child_id,
        destination_system=destination_system,
        destination_org=destination_org,
        request=request,
        result={},
        attempts=0,
        checks=0,
        state=PENDING,
        next_attempt_at=now_utc(),
    )
    session.add(row)
    session.flush()
    return row


def enqueue(
    session: Session, kind: str, destination: str, idempotency_key: str, payload: dict[str, Any]
) -> OutboxRow | None:
    """Queue a link write-back decided outside a referral (the helpdesk's merges and splits).

    ``payload`` is ``{child_id, system, record_id, fields}``: the link fields as they must be
    in that record's system ("" clears). It becomes an ordinary ``link`` row, delivered,
    retried and dead-lettered like the others. Writing links is idempotent, so a key seen
    before (the same fields again, e.g. after an undo and a new merge) is simply sent again.
    """
    if kind != "link_write":
        raise ValueError(f"the outbox has no sender for {kind!r}")
    existing = session.scalars(
        select(OutboxRow).where(OutboxRow.source_key == idempotency_key)
    ).first()
    if existing is not None:
        if existing.state in (DELIVERED, DEAD):
            _revive(existing)
            existing.state = PENDING
        return existing
    system, record_id, fields = payload["system"], payload["record_id"], payload["fields"]
    if system == "oscar":
        request = {
            "global_id": record_id,
            "case_id": fields.get("external_id") or None,
            "case_id_display": fields.get("external_id_display") or None,
        }
    else:
        request = {"case_id": record_id, "global_id": fields.get("oscar_number") or None}
    row = OutboxRow(
        kind=LINK,
        source_key=idempotency_key,
        idempotency_key=idempotency_key,
        source_system="bridge",
        source_record_id=record_id,
        child_id=payload.get("child_id"),
        destination_system=system,
        destination_org=None,
        request={**request, "helpdesk": destination},
        result={},
        attempts=0,
        checks=0,
        state=PENDING,
        next_attempt_at=now_utc(),
    )
    session.add(row)
    session.flush()
    return row


# --- leasing ---------------------------------------------------------------------------------


def claim(store: Store, owner: str, lease_seconds: float, limit: int) -> list[int]:
    """Lease up to ``limit`` due rows to ``owner``. One attempt at a time per child and
    destination, so the look-up after an unknown outcome is never confused by a sibling."""
    now = now_utc()
    free = or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now)
    with store.session() as session:
        busy = {
            (r.destination_system, r.source_record_id)
            for r in session.execute(
                select(OutboxRow.destination_system, OutboxRow.source_record_id).where(
                    OutboxRow.state.in_((UNKNOWN, SENDING)), OutboxRow.kind == REFERRAL
                )
            )
        }
        # PostgreSQL: rows another worker is leasing right now are skipped, not waited for
        # (FOR UPDATE SKIP LOCKED); SQLite has one writer at a time and no such clause
        candidates = session.execute(
            select(
                OutboxRow.id,
                OutboxRow.state,
                OutboxRow.kind,
                OutboxRow.destination_system,
                OutboxRow.source_record_id,
            )
            .where(OutboxRow.state.in_(OPEN_STATES), OutboxRow.next_attempt_at <= now, free)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit * 4)
            .with_for_update(skip_locked=True)
        ).all()
        chosen: list[int] = []
        taken: set[tuple[str | None, str]] = set()
        for row_id, state, kind, destination, record in candidates:
            pair = (destination, record)
            if kind == REFERRAL and (pair in taken or (state == PENDING and pair in busy)):
                continue
            # the lease is taken only if the row is still free (compare and set): two
            # workers never hold one row, whatever the database's locking
            leased = session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row_id, OutboxRow.state.in_(OPEN_STATES), free)
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
            ).rowcount
            if leased == 1:
                chosen.append(row_id)
                taken.add(pair)
            if len(chosen) >= limit:
                break
    return chosen


def next_due(store: Store) -> datetime | None:
    with store.session() as session:
        return aware(
            session.scalars(
                select(OutboxRow.next_attempt_at)
                .where(OutboxRow.state.in_(OPEN_STATES))
                .order_by(OutboxRow.next_attempt_at)
                .limit(1)
            ).first()
        )


# --- the commands ------------------------------------------------------------------------------


@dataclass
class RowSummary:
    id: int
    kind: str
    state: str
    source: str
    destination: str
    attempts: int
    note: str


def summarise(row: OutboxRow) -> RowSummary:
    destination = (
        f"{row.destination_system}:{row.destination_org}" if row.destination_system else "-"
    )
    note = row.held_reason if row.state == HELD else (row.last_error or "")
    return RowSummary(
        row.id, row.kind, row.state, row.source_key, destination, row.attempts, note or ""
    )


def list_rows(session: Session, state: str | None = None) -> list[OutboxRow]:
    query = select(OutboxRow).order_by(OutboxRow.id)
    if state == PENDING:
        query = query.where(OutboxRow.state.in_(OPEN_STATES))
    elif state:
        query = query.where(OutboxRow.state == state)
    return list(session.scalars(query))


def retry_row(session: Session, row_id: int) -> OutboxRow | None:
    """Make a row due now with fresh attempts (a dead letter or a waiting row)."""
    row = session.get(OutboxRow, row_id)
    if row is None or row.state in (DELIVERED, HELD):
        return row
    _revive(row)
    return row


def replay_dead(session: Session) -> list[int]:
    """Every dead letter due again, after the cause was fixed."""
    rows = list(session.scalars(select(OutboxRow).where(OutboxRow.state == DEAD)))
    for row in rows:
        _revive(row)
    return [row.id for row in rows]


def _revive(row: OutboxRow) -> None:
    # A row whose request may have reached the destination is looked up there first.
    row.state = UNKNOWN if (row.result or {}).get("maybe_sent") else PENDING
    row.attempts, row.checks = 0, 0
    row.next_attempt_at = now_utc()
    row.lease_owner = row.lease_until = None
    row.updated_at = now_utc()
