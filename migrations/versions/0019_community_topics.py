"""community topics: a community's own keyword rules and its settings for street topics

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

The topics and rules an older database holds are the street-wide set (keyword_rule's new
community_id is NULL for all of them): every community inherits them, as the one community
did. A keyword is unique per topic street-wide and per topic within each community: two
partial unique indexes, since NULLs never collide in a plain unique constraint.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_STREET_ONLY = sa.text("community_id IS NULL")
_COMMUNITY_ONLY = sa.text("community_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "community_topic",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("sla_hours", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_community_topic_community_id_community"),
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topic.id"], name=op.f("fk_community_topic_topic_id_topic")
        ),
        sa.PrimaryKeyConstraint("community_id", "topic_id", name=op.f("pk_community_topic")),
    )
    with op.batch_alter_table("keyword_rule") as batch:
        batch.add_column(sa.Column("community_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_keyword_rule_community_id_community"), "community", ["community_id"], ["id"]
        )
        batch.drop_constraint("uq_keyword_rule_topic_id", type_="unique")
    op.create_index(
        "uq_keyword_rule_street",
        "keyword_rule",
        ["topic_id", "keyword"],
        unique=True,
        sqlite_where=_STREET_ONLY,
        postgresql_where=_STREET_ONLY,
    )
    op.create_index(
        "uq_keyword_rule_community",
        "keyword_rule",
        ["topic_id", "keyword", "community_id"],
        unique=True,
        sqlite_where=_COMMUNITY_ONLY,
        postgresql_where=_COMMUNITY_ONLY,
    )
    with op.batch_alter_table("rule_audit") as batch:
        batch.add_column(sa.Column("community_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_rule_audit_community_id_community"), "community", ["community_id"], ["id"]
        )


def downgrade() -> None:
    conn = op.get_bind()
    own = conn.execute(
        sa.text("SELECT count(*) FROM keyword_rule WHERE community_id IS NOT NULL")
    ).scalar_one()
    if own:
        raise RuntimeError(
            "cannot downgrade below 0019: communities have their own keyword rules, and the "
            "older schema has room for street-wide rules only"
        )
    with op.batch_alter_table("rule_audit") as batch:
        batch.drop_constraint(op.f("fk_rule_audit_community_id_community"), type_="foreignkey")
        batch.drop_column("community_id")
    op.drop_index("uq_keyword_rule_community", table_name="keyword_rule")
    op.drop_index("uq_keyword_rule_street", table_name="keyword_rule")
    with op.batch_alter_table("keyword_rule") as batch:
        batch.create_unique_constraint("uq_keyword_rule_topic_id", ["topic_id", "keyword"])
        batch.drop_constraint(op.f("fk_keyword_rule_community_id_community"), type_="foreignkey")
        batch.drop_column("community_id")
    op.drop_table("community_topic")
