"""ticket: a partial index on resolved_at for the dashboard's daily 办结 count

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_ticket_resolved_at",
        "ticket",
        ["resolved_at"],
        sqlite_where=sa.text("resolved_at IS NOT NULL"),
        postgresql_where=sa.text("resolved_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_resolved_at", "ticket")
