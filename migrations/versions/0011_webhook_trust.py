"""webhook trust (seen nonces, failed inbound messages)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The (timestamp, nonce) pairs of signed webhook requests already used (models/seen.py).
    op.create_table(
        "seen_request",
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("timestamp", "nonce", name=op.f("pk_seen_request")),
        sqlite_with_rowid=False,  # one b-tree, one page per commit (models/seen.py)
    )
    # The failed messages staff are shown (models/inbound.py).
    op.create_index(
        "ix_inbound_message_failed",
        "inbound_message",
        ["received_at"],
        unique=False,
        sqlite_where=sa.text("status = 'failed'"),
        postgresql_where=sa.text("status = 'failed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_message_failed", table_name="inbound_message")
    op.drop_table("seen_request")
