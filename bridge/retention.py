"""Retention: personal content the bridge no longer needs is removed after configured
periods (`bridge purge`, `[retention]`), the ids and the audit trail kept.

- the raw payload of a record its source marks deleted (Primero ``record_state`` false), once
  unchanged for ``disabled_records_days``: emptied, its hash reset so that the record, served
  again, is stored again;
- a delivered outbox row after ``delivered_days``: the payload sent and the child snapshot it
  was built from are dropped (state, ids, times, destination and result stay, for the report
  and for decisions flowing back);
- a dead letter nobody replayed after ``dead_letter_days``: the row goes (with the messages
  queued under it).

One audit row records each purge with counts and row ids, never content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, true
from sqlalchemy.orm import Session

from bridge.config import RetentionConfig
from bridge.helpdesk.audit import record_audit
from bridge.referrals.tables import DEAD, DELIVERED, OutboxRow
from bridge.store.schema import SourceRecordRow

PURGED = "purged"  # a purged record's payload hash: no real hash looks like it


@dataclass
class PurgePlan:
    records: list[int] = field(default_factory=list)  # source_records ids
    delivered: list[int] = field(default_factory=list)  # outbox ids
    dead: list[int] = field(default_factory=list)  # outbox ids

    def counts(self) -> dict[str, int]:
        return {
            "deleted_records_payloads": len(self.records),
            "delivered_outbox_payloads": len(self.delivered),
            "dead_letters": len(self.dead),
        }

    @property
    def empty(self) -> bool:
        return not (self.records or self.delivered or self.dead)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plan_purge(
    session: Session, config: RetentionConfig, *, now: datetime | None = None
) -> PurgePlan:
    """What a purge now would remove (nothing is changed)."""
    now = now or datetime.now(UTC)
    plan = PurgePlan()
    old_record = now - timedelta(days=config.disabled_records_days)
    disabled = SourceRecordRow.canonical["disabled"].as_boolean()
    for row_id, changed in session.execute(
        select(SourceRecordRow.id, SourceRecordRow.changed_at).where(
            disabled == true(), SourceRecordRow.payload_hash != PURGED
        )
    ):
        if (_aware(changed) or now) <= old_record:
            plan.records.append(row_id)
    old_delivery = now - timedelta(days=config.delivered_days)
    for row in session.scalars(select(OutboxRow).where(OutboxRow.state == DELIVERED)):
        done = _aware(row.delivered_at) or _aware(row.updated_at)
        kept = row.payload is not None or "child" in (row.request or {})
        if done is not None and done <= old_delivery and kept:
            plan.delivered.append(row.id)
    old_dead = now - timedelta(days=config.dead_letter_days)
    for row_id, updated in session.execute(
        select(OutboxRow.id, OutboxRow.updated_at).where(OutboxRow.state == DEAD)
    ):
        if (_aware(updated) or now) <= old_dead:
            plan.dead.append(row_id)
    return plan


def purge(session: Session, plan: PurgePlan, *, by: str) -> PurgePlan:
    """Remove what ``plan`` lists, in the caller's transaction, and audit it."""
    if plan.empty:
        return plan
    for start in range(0, len(plan.records), 500):
        for row in session.scalars(
            select(SourceRecordRow).where(SourceRecordRow.id.in_(plan.records[start : start + 500]))
        ):
            row.payload, row.payload_hash = {}, PURGED
    for start in range(0, len(plan.delivered), 500):
        for row in session.scalars(
            select(OutboxRow).where(OutboxRow.id.in_(plan.delivered[start : start + 500]))
        ):
            row.payload = None
            row.request = {k: v for k, v in (row.request or {}).items() if k != "child"}
    for start in range(0, len(plan.dead), 500):
        chunk = plan.dead[start : start + 500]
        session.execute(delete(OutboxRow).where(OutboxRow.parent_id.in_(chunk)))
        session.execute(delete(OutboxRow).where(OutboxRow.id.in_(chunk)))
    record_audit(
        session,
        actor=by,
        action="purge",
        child_id=None,
        details={
            **plan.counts(),
            "source_records": plan.records[:1000],
            "outbox_delivered": plan.delivered[:1000],
            "outbox_dead": plan.dead[:1000],
        },
    )
    return plan
