"""polls and ballots

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Poll numbers come from a counter row, like ticket numbers (always an UPDATE).
    op.execute("INSERT INTO counter (name, value) VALUES ('poll_number', 0)")
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("options_json", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_grid_id", sa.Integer(), nullable=True),
        sa.Column("scope_buildings", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("max_choices", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("hide_results", sa.Boolean(), nullable=False),
        sa.Column("eligibility", sa.String(length=16), nullable=False),
        sa.Column("opens_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("closes_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("quorum", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("closed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("announced_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("result_pushed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("decision_pushed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("followup_due_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("followup_asked_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["scope_grid_id"], ["grid.id"], name=op.f("fk_poll_scope_grid_id_grid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll")),
        sa.UniqueConstraint("number", name=op.f("uq_poll_number")),
    )
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_closes_at"), ["closes_at"], unique=False)

    op.create_table(
        "ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("unit_key", sa.String(length=24), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("choices", sa.String(length=40), nullable=False),
        sa.Column("cast_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("replaced_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_ballot_household_id_household")
        ),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], name=op.f("fk_ballot_poll_id_poll")),
        sa.ForeignKeyConstraint(
            ["voter_id"], ["person.id"], name=op.f("fk_ballot_voter_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot")),
        sa.UniqueConstraint("poll_id", "unit_key", name="uq_ballot_unit"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM counter WHERE name = 'poll_number'")
    op.drop_table("ballot")
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_closes_at"))

    op.drop_table("poll")
