"""communities: one deployment serves a street office and its residents' committees

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

Everything an older database holds lands in the first community (id 1), named by `[app]
community_name` (`yishiting init` passes it; 本社区 otherwise). Grid and building names become
unique within their community. Staff below the street level (网格员, 社区) belong to that
community; street-level staff (level 3) and console admins stay street-wide; console staff
accounts work in the first community, as they did. Existing polls and notices were the one
community's, so they are its.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

import models.base

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

DEFAULT_NAME = "本社区"
STREET_LEVEL = 3
# Tables whose rows belong to exactly one community (NOT NULL, default the first).
_OWNED = ("grid", "building", "ticket")
# Tables whose rows may be street-wide (NULL).
_OPTIONAL = ("person", "poll", "announcement", "console_account", "staff_code")


def upgrade() -> None:
    op.create_table(
        "community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community")),
        sa.UniqueConstraint("name", name=op.f("uq_community_name")),
    )
    name = str(context.config.attributes.get("community_name") or DEFAULT_NAME)[:32]
    # No id given: PostgreSQL's sequence hands out 1 and stays in step with it.
    op.get_bind().execute(
        sa.text("INSERT INTO community (name, created_at) VALUES (:name, :at)"),
        {"name": name, "at": datetime.now(UTC).replace(tzinfo=None)},
    )
    for table in ("grid", "building"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(_column(table, nullable=False))
            batch.drop_constraint(f"uq_{table}_name", type_="unique")
            batch.create_unique_constraint(f"uq_{table}_community_name", ["community_id", "name"])
    _add_column("ticket", nullable=False)
    # The street's figures and a community's dashboard count its tickets by filing time.
    op.create_index("ix_ticket_community_created", "ticket", ["community_id", "created_at"])
    for table in _OPTIONAL:
        _add_column(table, nullable=True)
    op.create_index("ix_person_community_id", "person", ["community_id"])
    op.execute(
        "UPDATE person SET community_id = 1 "
        f"WHERE role = 'resident' OR (staff_level > 0 AND staff_level < {STREET_LEVEL})"
    )
    for table in ("poll", "announcement"):
        op.execute(f"UPDATE {table} SET community_id = 1")
    op.execute("UPDATE console_account SET community_id = 1 WHERE role = 'staff'")


def downgrade() -> None:
    conn = op.get_bind()
    others = conn.execute(sa.text("SELECT count(*) FROM community WHERE id <> 1")).scalar_one()
    if others:
        raise RuntimeError(
            "cannot downgrade below 0017: the database holds more than one community, and the "
            "older schema has room for one"
        )
    op.drop_index("ix_person_community_id", table_name="person")
    op.drop_index("ix_ticket_community_created", table_name="ticket")
    for table in (*_OPTIONAL, "ticket"):
        _drop_column(table)
    for table in ("grid", "building"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_community_name", type_="unique")
            batch.drop_constraint(f"fk_{table}_community_id_community", type_="foreignkey")
            batch.drop_column("community_id")
            batch.create_unique_constraint(f"uq_{table}_name", ["name"])
    op.drop_table("community")


def _column(table: str, *, nullable: bool) -> sa.Column[int]:
    return sa.Column(
        "community_id",
        sa.Integer(),
        sa.ForeignKey("community.id", name=f"fk_{table}_community_id_community"),
        nullable=nullable,
        server_default=None if nullable else "1",
    )


def _add_column(table: str, *, nullable: bool) -> None:
    """community_id with its named foreign key, on both databases without copying the table.

    SQLite adds a column's REFERENCES clause in place; it allows a non-NULL default on such a
    column only while foreign keys are off, which migrations/env.py sees to."""
    name = f"fk_{table}_community_id_community"
    if op.get_bind().dialect.name == "sqlite":
        default = "" if nullable else " NOT NULL DEFAULT 1"
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN community_id INTEGER{default} "
            f"CONSTRAINT {name} REFERENCES community (id)"
        )
        return
    op.add_column(table, _column(table, nullable=nullable))


def _drop_column(table: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(f"fk_{table}_community_id_community", table, type_="foreignkey")
    # SQLite (3.35+) drops a column that is not indexed, even one with a REFERENCES clause.
    op.drop_column(table, "community_id")
