"""Tables. Migrations in ``migrations/versions`` create exactly these; change both together."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class SourceRecordRow(Base):
    """A record as a source served it (payload kept and hashed), with its mapping outcome."""

    __tablename__ = "source_records"
    __table_args__ = (UniqueConstraint("system", "record_id", name="uq_source_record"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))  # configured source name
    system: Mapped[str] = mapped_column(String(16))  # primero | oscar
    record_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[Any] = mapped_column(JSON)
    payload_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # mapped | quarantined | unreadable
    issues: Mapped[list[Any]] = mapped_column(JSON, default=list)
    canonical: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    @property
    def key(self) -> str:
        return f"{self.system}:{self.record_id}"


class ChildRow(Base):
    """A child: one stable id. A merged-away child keeps its row, pointing to the survivor."""

    __tablename__ = "children"

    child_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seq: Mapped[int] = mapped_column(Integer)  # creation order; older child survives a merge
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | merged | empty
    merged_into: Mapped[str | None] = mapped_column(String(32), nullable=True)


class LinkRow(Base):
    """Which child a source record belongs to, and how that was decided."""

    __tablename__ = "links"

    record_pk: Mapped[int] = mapped_column(
        ForeignKey("source_records.id", ondelete="CASCADE"), primary_key=True
    )
    child_id: Mapped[str] = mapped_column(ForeignKey("children.child_id"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # new | exact | auto | human
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# kinds of review item
POSSIBLE = "possible"
AUDIT = "audit"


class ReviewItemRow(Base):
    """A possible duplicate the engine was not sure of, for the helpdesk."""

    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("key_a", "key_b", name="uq_review_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_a: Mapped[str] = mapped_column(String(160))  # "system:record_id", key_a < key_b
    key_b: Mapped[str] = mapped_column(String(160))
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved | stale
    # possible: a possible duplicate (two children); audit: an automatic link sampled for a
    # person to check (`bridge review sample --links`), its two records in one child
    kind: Mapped[str] = mapped_column(String(16), default=POSSIBLE, server_default=POSSIBLE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MatchConstraintRow(Base):
    """A human decision about two records: same child (must) or not (cannot). Sticky."""

    __tablename__ = "match_constraints"
    __table_args__ = (Index("ix_constraint_pair", "key_a", "key_b"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_a: Mapped[str] = mapped_column(String(160))
    key_b: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(8))  # must | cannot
    decision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SyncCursorRow(Base):
    __tablename__ = "sync_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SyncRunRow(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    command: Mapped[str] = mapped_column(String(32))  # sync | import | remap | relink
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)


class RunLockRow(Base):
    """One row while a sync holds the lock. A row left by a dead process is taken over."""

    __tablename__ = "run_lock"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelParamsRow(Base):
    """Matching weights estimated from the stored records (no labels): when, on how many."""

    __tablename__ = "model_params"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    record_count: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)


class SettingRow(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class DecisionRow(Base):
    """A helpdesk decision (merge, distinct, split, undo): who, why, and what it changed."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # merge | distinct | split | undo
    decided_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    review_item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # before / after
    undone_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AuditRow(Base):
    """Append-only trail: every decision and every view of a child's personal data."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_child", "child_id"), Index("ix_audit_actor", "actor"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))  # view_child | view_review | merge | ...
    child_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the hash chain (`bridge audit verify`): the previous row's hash, and this row's, over
    # the previous hash and this row's content (rows from before migration 0007 have none)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    row_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditHeadRow(Base):
    """The audit chain's head: the last row's id and hash, and the rows chained. One row,
    locked by every writer, so two writers never chain onto the same row."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, default=0)


class HookSignatureRow(Base):
    """A webhook signature already accepted: the same one again is a replay (any worker)."""

    __tablename__ = "hook_signatures"

    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AlertSentRow(Base):
    """The last alert sent for one cause, so a cause alerts at most once an interval."""

    __tablename__ = "alerts_sent"

    cause: Mapped[str] = mapped_column(String(128), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    count: Mapped[int] = mapped_column(Integer, default=0)  # alerts sent for it in all
    last_value: Mapped[int] = mapped_column(Integer, default=0)  # e.g. dead letters then


class DeskUserRow(Base):
    """A person who logs in to the desk (`bridge users`): the `by` of what they decide."""

    __tablename__ = "desk_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | helpdesk | viewer
    password_hash: Mapped[str] = mapped_column(String(256))  # argon2id, never the password
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # since the last good one
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeskSessionRow(Base):
    """A login: the cookie holds a random token, the table its SHA-256 (a stolen table
    opens no session)."""

    __tablename__ = "desk_sessions"
    __table_args__ = (Index("ix_desk_sessions_user", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("desk_users.id"))
    csrf: Mapped[str] = mapped_column(String(64))  # the token every form of this login carries
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConflictResolutionRow(Base):
    """Which record is right for one field of one child, as the helpdesk decided: the golden
    record takes that record's value, and the conflict is not listed again while the child's
    disagreeing records are the same ones (``records``)."""

    __tablename__ = "conflict_resolutions"
    __table_args__ = (UniqueConstraint("child_id", "field", name="uq_conflict_resolution"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    child_id: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(32))  # sex | birth | status
    record_key: Mapped[str] = mapped_column(String(160))  # the record that is right
    records: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the records in conflict
    decided_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
