"""triage pushes for tickets nobody holds

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: a batch would copy and drop `ticket`, which SQLite refuses
# while other tables' rows refer to it; both databases add and drop a nullable column in place.


def upgrade() -> None:
    # Set once the duty supervisor has been pushed a ticket nobody holds ([tickets] triage_hours).
    op.add_column("ticket", sa.Column("triage_pushed_at", models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("ticket", "triage_pushed_at")
