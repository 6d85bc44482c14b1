"""the audit trail as a hash chain (`bridge audit verify`)

Each new audit row carries the SHA-256 of the row before it and of its own content; the
head of the chain is kept in ``audit_head`` (one row, locked by each writer). Rows written
before this revision have no hash: the chain begins after them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 00:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", recreate="never") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "last_id": None, "last_hash": "0" * 64, "rows": 0}])


def downgrade() -> None:
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_log", recreate="never") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
