"""ticket indexes for the console's dashboard and lists

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_created_at", "ticket", ["created_at"])
    op.create_index("ix_ticket_status_created", "ticket", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_status_created", "ticket")
    op.drop_index("ix_ticket_created_at", "ticket")
