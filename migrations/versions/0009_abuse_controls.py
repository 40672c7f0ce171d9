"""abuse controls (rate limits, 附议)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_RATE_COLUMNS = ("rate_minute", "rate_minute_count", "rate_day", "rate_day_count")


def upgrade() -> None:
    # Per-person message counts, updated by the upsert every message runs (people.py).
    with op.batch_alter_table("person", schema=None) as batch_op:
        for name in _RATE_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("supporters", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("building_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_building_id_building"), "building", ["building_id"], ["id"]
        )
        # The status joins the index so a person's open tickets are counted from it alone.
        batch_op.drop_index("ix_ticket_person_text")
        batch_op.create_index(
            "ix_ticket_person_text", ["person_id", "text_key", "status"], unique=False
        )
        batch_op.create_index(
            "ix_ticket_building_created",
            ["building_id", "created_at"],
            unique=False,
            sqlite_where=sa.text("building_id IS NOT NULL"),
            postgresql_where=sa.text("building_id IS NOT NULL"),
        )
    op.create_table(
        "ticket_supporter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_ticket_supporter_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_supporter_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_supporter")),
        sa.UniqueConstraint("ticket_id", "person_id", name="uq_ticket_supporter"),
    )
    with op.batch_alter_table("ticket_supporter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_supporter_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_supporter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_supporter_person_id"))
    op.drop_table("ticket_supporter")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_building_created")
        batch_op.drop_index("ix_ticket_person_text")
        batch_op.create_index("ix_ticket_person_text", ["person_id", "text_key"], unique=False)
        batch_op.drop_constraint(batch_op.f("fk_ticket_building_id_building"), type_="foreignkey")
        batch_op.drop_column("building_id")
        batch_op.drop_column("supporters")
    with op.batch_alter_table("person", schema=None) as batch_op:
        for name in reversed(_RATE_COLUMNS):
            batch_op.drop_column(name)
