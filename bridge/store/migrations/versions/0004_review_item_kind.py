"""review items have a kind: a possible duplicate, or an audit of an automatic link

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="possible")
        )


def downgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.drop_column("kind")
