"""The referral outbox's tables. ``migrations/versions/0003_referrals_outbox.py`` creates exactly
these; change both together.

One table holds every message the router sends (a referral, a decision written back, a link
written back), so one delivery loop retries, dead-letters and replays them all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.schema import Base, utcnow

# Row states, in the users' words.
HELD = "held"  # found but not sendable yet: no routing rule, no consent
PENDING = "pending"  # to send (again) at next_attempt_at
SENDING = "sending"  # an attempt is in flight; found so after a crash, the outcome is unknown
UNKNOWN = "unknown"  # the last attempt may have reached the destination: look before resending
DELIVERED = "delivered"
DEAD = "dead"  # a dead letter: not retryable, or out of attempts; `replay --dead` after a fix
STATES = (HELD, PENDING, SENDING, UNKNOWN, DELIVERED, DEAD)

# Row kinds.
REFERRAL = "referral"
DECISION = "decision"  # a receiver's accept/reject written back to the referring system
LINK = "link"  # the other system's id written back (update_links / oscar_number)


class OutboxRow(Base):
    """One message to deliver exactly once, with its attempts and outcome."""

    __tablename__ = "referral_outbox"
    __table_args__ = (Index("ix_referral_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    # What was found: source system + source referral id + service (+ what, for decisions).
    source_key: Mapped[str] = mapped_column(String(255), unique=True)
    # source key + destination: set once routed; a second row with it can never exist.
    idempotency_key: Mapped[str | None] = mapped_column(String(300), unique=True, nullable=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_outbox.id", ondelete="CASCADE"), nullable=True, index=True
    )
    source_system: Mapped[str] = mapped_column(String(16))
    source_record_id: Mapped[str] = mapped_column(String(128))
    child_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    destination_system: Mapped[str | None] = mapped_column(String(16), nullable=True)
    destination_org: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The canonical referral and the child snapshot the payload is built from (at send time,
    # so a fixed vocabulary applies on replay).
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # last sent
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # ids in destination
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    held_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    checks: Mapped[int] = mapped_column(Integer, default=0)  # looks into the destination
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    first_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReferralScanRow(Base):
    """How far the router has read the stored source records of one system."""

    __tablename__ = "referral_scan"

    system: Mapped[str] = mapped_column(String(16), primary_key=True)
    changed_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
