"""the helpdesk's resolutions of conflicts between a child's records (`bridge conflicts resolve`)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 01:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conflict_resolutions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("child_id", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=160), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("child_id", "field", name="uq_conflict_resolution"),
    )


def downgrade() -> None:
    op.drop_table("conflict_resolutions")
