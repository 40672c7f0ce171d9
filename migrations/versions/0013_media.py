"""attachments downloaded from WeChat

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_WAITING = "media_status IN ('pending', 'fetching')"
_TOO_OLD = "attached before this version, more than 3 days ago: WeChat no longer keeps it"


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
    # Pictures, voice and video attached before this version: WeChat keeps media about 3 days,
    # so the recent ones are queued, and the older ones are marked as gone rather than asked
    # for (one refused API call each, against the account's daily quota).
    media = "kind IN ('image', 'voice', 'video', 'shortvideo') AND data LIKE '%\"mediaid\"%'"
    cutoff = sa.bindparam(
        "cutoff", datetime.now(UTC) - timedelta(days=3), models.base.UTCDateTime()
    )
    op.get_bind().execute(
        sa.text(
            "UPDATE ticket_attachment SET media_status = 'pending', media_due_at = created_at "
            f"WHERE {media} AND created_at >= :cutoff"
        ).bindparams(cutoff)
    )
    op.get_bind().execute(
        sa.text(
            "UPDATE ticket_attachment SET media_status = 'failed', media_error = :why "
            f"WHERE {media} AND created_at < :cutoff"
        ).bindparams(cutoff, why=_TOO_OLD)
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
