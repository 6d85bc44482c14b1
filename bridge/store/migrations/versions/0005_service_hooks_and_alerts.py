"""the service's webhook signatures (replays refused across workers) and alerts sent

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hook_signatures",
        sa.Column("signature", sa.String(length=128), primary_key=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "alerts_sent",
        sa.Column("cause", sa.String(length=128), primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alerts_sent")
    op.drop_table("hook_signatures")
