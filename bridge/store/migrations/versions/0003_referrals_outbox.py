"""referral outbox and scan cursor

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("source_system", sa.String(length=16), nullable=False),
        sa.Column("source_record_id", sa.String(length=128), nullable=False),
        sa.Column("child_id", sa.String(length=32), nullable=True),
        sa.Column("destination_system", sa.String(length=16), nullable=True),
        sa.Column("destination_org", sa.String(length=64), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("held_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["referral_outbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("referral_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_referral_outbox_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_referral_outbox_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "referral_scan",
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("changed_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("system"),
    )


def downgrade() -> None:
    op.drop_table("referral_scan")
    with op.batch_alter_table("referral_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_outbox_parent_id"))
        batch_op.drop_index("ix_referral_outbox_due")
    op.drop_table("referral_outbox")
