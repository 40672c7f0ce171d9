"""deliberation: 议题 (agenda items), their backing, timeline, objections and ratings; 议事会
(meetings, their agenda, invitees and minutes); 议事代表; polls on an agenda item and ballots
entered by staff for a household that voted on paper

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

Agenda items and meetings are numbered from their own counters, like tickets and polls. A
ballot's voter becomes optional: a household's paper ballot has no WeChat voter, and
`entered_by` names the staff member who entered it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO counter (name, value) VALUES ('agenda_number', 0)")
    op.execute("INSERT INTO counter (name, value) VALUES ('meeting_number', 0)")
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("at", models.base.UTCDateTime(), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("invite", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("reminded_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("attendees", sa.Text(), nullable=True),
        sa.Column("minutes_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("minutes_by", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_meeting_community_id_community")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
        sa.UniqueConstraint("number", name=op.f("uq_meeting_number")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_at"), ["at"], unique=False)

    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("proposer_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("stage_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("backing_unit", sa.String(length=16), nullable=False),
        sa.Column("backing_needed", sa.Integer(), nullable=False),
        sa.Column("threshold_pushed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("accepted_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("public_token", sa.String(length=32), nullable=True),
        sa.Column("publicised_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("objections_until", models.base.UTCDateTime(), nullable=True),
        sa.Column("confirmed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("objections_reminded_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("owner_party", sa.String(length=64), nullable=True),
        sa.Column("due_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("overdue_level", sa.Integer(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("done_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("rating_asked_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("review_due_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("review_asked_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_agenda_item_community_id_community")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["person.id"], name=op.f("fk_agenda_item_owner_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["proposer_id"], ["person.id"], name=op.f("fk_agenda_item_proposer_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item")),
        sa.UniqueConstraint("number", name=op.f("uq_agenda_item_number")),
        sa.UniqueConstraint("public_token", name=op.f("uq_agenda_item_public_token")),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agenda_item_community_stage", ["community_id", "stage"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agenda_item_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_agenda_item_review_due_at"), ["review_due_at"], unique=False
        )

    op.create_table(
        "meeting_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_invite_meeting_id_meeting")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_meeting_invite_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_invite")),
        sa.UniqueConstraint("meeting_id", "person_id", name="uq_meeting_invite"),
    )
    with op.batch_alter_table("meeting_invite", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_invite_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "representative",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_representative_community_id_community"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_representative_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_representative")),
    )
    op.create_table(
        "agenda_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agenda_id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agenda_id"], ["agenda_item.id"], name=op.f("fk_agenda_event_agenda_id_agenda_item")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_agenda_event_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_event")),
    )
    with op.batch_alter_table("agenda_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_event_agenda_id"), ["agenda_id"], unique=False)

    op.create_table(
        "agenda_objection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agenda_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agenda_id"],
            ["agenda_item.id"],
            name=op.f("fk_agenda_objection_agenda_id_agenda_item"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_agenda_objection_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_objection")),
    )
    with op.batch_alter_table("agenda_objection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agenda_objection_agenda_id"), ["agenda_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agenda_objection_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "agenda_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agenda_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("held", sa.Boolean(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agenda_id"], ["agenda_item.id"], name=op.f("fk_agenda_rating_agenda_id_agenda_item")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_agenda_rating_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_rating")),
        sa.UniqueConstraint("agenda_id", "person_id", name="uq_agenda_rating"),
    )
    with op.batch_alter_table("agenda_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_rating_person_id"), ["person_id"], unique=False)

    op.create_table(
        "meeting_agenda",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("agenda_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agenda_id"], ["agenda_item.id"], name=op.f("fk_meeting_agenda_agenda_id_agenda_item")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_agenda_meeting_id_meeting")
        ),
        sa.PrimaryKeyConstraint("meeting_id", "agenda_id", name=op.f("pk_meeting_agenda")),
    )
    op.create_table(
        "agenda_backing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agenda_id", sa.Integer(), nullable=False),
        sa.Column("unit_key", sa.String(length=24), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agenda_id"], ["agenda_item.id"], name=op.f("fk_agenda_backing_agenda_id_agenda_item")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_agenda_backing_household_id_household"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_agenda_backing_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_backing")),
        sa.UniqueConstraint("agenda_id", "unit_key", name="uq_agenda_backing_unit"),
    )
    with op.batch_alter_table("agenda_backing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agenda_backing_person_id"), ["person_id"], unique=False
        )

    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_by", sa.String(length=64), nullable=True))
        batch_op.alter_column("voter_id", existing_type=sa.INTEGER(), nullable=True)

    _add_poll_agenda()
    op.create_index("ix_poll_agenda_id", "poll", ["agenda_id"], unique=False)


_POLL_FK = "fk_poll_agenda_id_agenda_item"


def _add_poll_agenda() -> None:
    """poll.agenda_id with its named foreign key, without copying the poll table.

    On SQLite the column's REFERENCES clause is added in place, as 0017 added
    community_id: copying the table (batch mode) would turn 0017's column constraint into a
    table constraint, and 0017's downgrade could no longer drop its column."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE poll ADD COLUMN agenda_id INTEGER "
            f"CONSTRAINT {_POLL_FK} REFERENCES agenda_item (id)"
        )
        return
    op.add_column(
        "poll",
        sa.Column("agenda_id", sa.Integer(), sa.ForeignKey("agenda_item.id", name=_POLL_FK)),
    )


def downgrade() -> None:
    conn = op.get_bind()
    paper = conn.execute(sa.text("SELECT count(*) FROM ballot WHERE voter_id IS NULL")).scalar()
    if paper:
        raise RuntimeError(
            "cannot downgrade below 0020: staff entered paper ballots, and the older schema "
            "needs a WeChat voter for every ballot"
        )
    op.drop_index("ix_poll_agenda_id", table_name="poll")
    if conn.dialect.name != "sqlite":
        op.drop_constraint(_POLL_FK, "poll", type_="foreignkey")
    # SQLite (3.35+) drops a column that is not indexed, even one with a REFERENCES clause.
    op.drop_column("poll", "agenda_id")

    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.alter_column("voter_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("entered_by")

    with op.batch_alter_table("agenda_backing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_backing_person_id"))

    op.drop_table("agenda_backing")
    op.drop_table("meeting_agenda")
    with op.batch_alter_table("agenda_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_rating_person_id"))

    op.drop_table("agenda_rating")
    with op.batch_alter_table("agenda_objection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_objection_person_id"))
        batch_op.drop_index(batch_op.f("ix_agenda_objection_agenda_id"))

    op.drop_table("agenda_objection")
    with op.batch_alter_table("agenda_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_event_agenda_id"))

    op.drop_table("agenda_event")
    op.drop_table("representative")
    with op.batch_alter_table("meeting_invite", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_invite_person_id"))

    op.drop_table("meeting_invite")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_item_review_due_at"))
        batch_op.drop_index(batch_op.f("ix_agenda_item_due_at"))
        batch_op.drop_index("ix_agenda_item_community_stage")

    op.drop_table("agenda_item")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_at"))

    op.drop_table("meeting")
    op.execute("DELETE FROM counter WHERE name IN ('agenda_number', 'meeting_number')")
