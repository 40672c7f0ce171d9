"""attachments downloaded from WeChat

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_WAITING = "media_status IN ('pending', 'fetching')"


def upgrade() -> None:
    # The attachment row is also its download job (models/media.py): its state, the stored
    # file, and the retry bookkeeping the outbox keeps for a push.
    with op.batch_alter_table("ticket_attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("media_file", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("media_type", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("media_bytes", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("media_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("media_due_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("media_claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("media_error", sa.Text(), nullable=True))
        batch_op.create_index(
            "ix_ticket_attachment_media_due",
            ["media_due_at"],
            unique=False,
            sqlite_where=sa.text(_WAITING),
            postgresql_where=sa.text(_WAITING),
        )
    # Pictures, voice and video attached before this version are queued too: WeChat may
    # still have them (it keeps media about 3 days); a gone one ends as "failed" (40007).
    op.execute(
        "UPDATE ticket_attachment SET media_status = 'pending', media_due_at = created_at "
        "WHERE kind IN ('image', 'voice', 'video', 'shortvideo') AND data LIKE '%\"mediaid\"%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("ticket_attachment", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_attachment_media_due")
        for name in (
            "media_error",
            "media_claimed_by",
            "media_due_at",
            "media_attempts",
            "media_bytes",
            "media_type",
            "media_file",
            "media_status",
        ):
            batch_op.drop_column(name)
