"""Understanding residents: the learned classifier's models, the places that are not
buildings (gates, squares, the car park), buildings' coordinates, and on a ticket where the
problem is and who set its topic.

The new columns of building and ticket are added (and dropped) in place, not by copying the
tables, as in 0021.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 20:23:28.890764
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classifier_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("last_ticket_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classifier_model")),
    )
    op.create_table(
        "landmark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), server_default="1", nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("aliases", sa.String(length=200), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["building_id"], ["building.id"], name=op.f("fk_landmark_building_id_building")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_landmark_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_landmark_grid_id_grid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_landmark")),
        sa.UniqueConstraint("community_id", "name", name="uq_landmark_community_name"),
    )
    op.add_column("building", sa.Column("lat", sa.Float(), nullable=True))
    op.add_column("building", sa.Column("lon", sa.Float(), nullable=True))
    op.add_column("ticket", sa.Column("spot", sa.String(length=64), nullable=True))
    op.add_column("ticket", sa.Column("spot_from", sa.String(length=16), nullable=True))
    op.add_column("ticket", sa.Column("topic_by", sa.String(length=16), nullable=True))
    # Counters exist from the start, so bumping one is always an UPDATE.
    op.execute("INSERT INTO counter (name, value) VALUES ('model_version', 0)")


def downgrade() -> None:
    op.execute("DELETE FROM counter WHERE name = 'model_version'")
    for column in ("topic_by", "spot_from", "spot"):
        op.drop_column("ticket", column)
    op.drop_column("building", "lon")
    op.drop_column("building", "lat")
    op.drop_table("landmark")
    op.drop_table("classifier_model")
