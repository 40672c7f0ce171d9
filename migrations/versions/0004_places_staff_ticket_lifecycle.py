"""places, staff, ticket lifecycle

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Unused by any query, and written by every message (see models/inbound.py).
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_message_openid")
    op.create_table(
        "grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["person.id"], name=op.f("fk_grid_worker_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid")),
        sa.UniqueConstraint("name", name=op.f("uq_grid_name")),
    )
    op.create_table(
        "staff_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["used_by"], ["person.id"], name=op.f("fk_staff_code_used_by_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_code_code_hash")),
    )
    op.create_table(
        "staff_topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_staff_topic_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topic.id"], name=op.f("fk_staff_topic_topic_id_topic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_topic")),
        sa.UniqueConstraint("person_id", "topic_id", name="uq_staff_topic_pair"),
    )
    with op.batch_alter_table("staff_topic", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_topic_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_topic_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "building",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_building_grid_id_grid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_building")),
        sa.UniqueConstraint("name", name=op.f("uq_building_name")),
    )
    op.create_table(
        "staff_grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_staff_grid_grid_id_grid")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_staff_grid_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_grid")),
        sa.UniqueConstraint("person_id", "grid_id", name="uq_staff_grid_pair"),
    )
    with op.batch_alter_table("staff_grid", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_grid_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_grid_person_id"), ["person_id"], unique=False)

    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"], ["building.id"], name=op.f("fk_household_building_id_building")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household")),
        sa.UniqueConstraint("building_id", "unit", "room", name="uq_household_address"),
    )
    op.create_table(
        "ticket_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["person.id"], name=op.f("fk_ticket_event_actor_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_event_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_event")),
    )
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_event_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("decided_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_binding_household_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_binding_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_binding")),
        sa.UniqueConstraint("person_id", name=op.f("uq_binding_person_id")),
    )
    with op.batch_alter_table("binding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_binding_household_id"), ["household_id"], unique=False)

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_pushes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("name", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("staff_level", sa.Integer(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assigned_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("grid_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("place", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("due_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("warned_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("level", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("accepted_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("on_time", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rated_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("rating_asked_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("rating_reminded_at", models.base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("followup_due_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("followup_asked_at", models.base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reopen_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index("ix_ticket_assignee_status", ["assignee_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            "ix_ticket_followup_due_at",
            ["followup_due_at"],
            unique=False,
            sqlite_where=sa.text("followup_due_at IS NOT NULL"),
            postgresql_where=sa.text("followup_due_at IS NOT NULL"),
        )
        # One composite index instead of two: a filing's commit writes one page fewer.
        batch_op.drop_index("ix_ticket_person_id")
        batch_op.drop_index("ix_ticket_text_key")
        batch_op.create_index("ix_ticket_person_text", ["person_id", "text_key"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_grid_id_grid"), "grid", ["grid_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_assignee_id_person"), "person", ["assignee_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_message_openid", ["openid"], unique=False)
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ticket_assignee_id_person"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_ticket_grid_id_grid"), type_="foreignkey")
        batch_op.drop_index("ix_ticket_person_text")
        batch_op.create_index("ix_ticket_text_key", ["text_key"], unique=False)
        batch_op.create_index("ix_ticket_person_id", ["person_id"], unique=False)
        batch_op.drop_index("ix_ticket_followup_due_at")
        batch_op.drop_index(batch_op.f("ix_ticket_due_at"))
        batch_op.drop_index("ix_ticket_assignee_status")
        batch_op.drop_column("reopen_count")
        batch_op.drop_column("followup_asked_at")
        batch_op.drop_column("followup_due_at")
        batch_op.drop_column("rating_reminded_at")
        batch_op.drop_column("rating_asked_at")
        batch_op.drop_column("rated_at")
        batch_op.drop_column("rating")
        batch_op.drop_column("on_time")
        batch_op.drop_column("outcome")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("level")
        batch_op.drop_column("warned_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("place")
        batch_op.drop_column("grid_id")
        batch_op.drop_column("assigned_reason")
        batch_op.drop_column("assignee_id")

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("held_pushes")
        batch_op.drop_column("staff_level")
        batch_op.drop_column("name")

    with op.batch_alter_table("binding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_binding_household_id"))

    op.drop_table("binding")
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_event_ticket_id"))

    op.drop_table("ticket_event")
    op.drop_table("household")
    with op.batch_alter_table("staff_grid", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_grid_person_id"))
        batch_op.drop_index(batch_op.f("ix_staff_grid_grid_id"))

    op.drop_table("staff_grid")
    op.drop_table("building")
    with op.batch_alter_table("staff_topic", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_topic_topic_id"))
        batch_op.drop_index(batch_op.f("ix_staff_topic_person_id"))

    op.drop_table("staff_topic")
    op.drop_table("staff_code")
    op.drop_table("grid")
