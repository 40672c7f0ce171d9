"""channels: how a ticket came in, who filed it for whom

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Plain ALTER TABLE ADD COLUMN, not a batch: a batch would copy and drop `ticket`, which
# SQLite refuses while other tables' rows refer to it (see 0015).


def upgrade() -> None:
    # Existing tickets were all written by the resident in the chat: "wechat".
    op.add_column(
        "ticket",
        sa.Column("channel", sa.String(length=16), server_default="wechat", nullable=False),
    )
    _add_filed_by()
    op.add_column("ticket", sa.Column("phone", sa.String(length=20), nullable=True))
    # A resident the account does not know (a phone call, a walk-in) has no person row.
    _set_person_nullable(True)


def downgrade() -> None:
    # Tickets nobody on the account reported cannot exist in the older schema.
    conn = op.get_bind()
    orphans = conn.execute(sa.text("SELECT count(*) FROM ticket WHERE person_id IS NULL"))
    if orphans.scalar_one():
        raise RuntimeError(
            "cannot downgrade below 0016: some tickets were filed by staff for residents the "
            "account does not know (ticket.person_id is NULL); the older schema cannot hold them"
        )
    _set_person_nullable(False)
    op.drop_column("ticket", "phone")
    if conn.dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_ticket_filed_by_id_person"), "ticket", type_="foreignkey")
    # SQLite (3.35+) drops a column that is not indexed, even one with a REFERENCES clause.
    op.drop_column("ticket", "filed_by_id")
    op.drop_column("ticket", "channel")


def _add_filed_by() -> None:
    """ticket.filed_by_id, a named foreign key to person (the staff member who filed it)."""
    name = "fk_ticket_filed_by_id_person"
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column's REFERENCES clause in place (no ALTER ... ADD CONSTRAINT).
        op.execute(
            f"ALTER TABLE ticket ADD COLUMN filed_by_id INTEGER CONSTRAINT {name} "
            "REFERENCES person (id)"
        )
        return
    op.add_column("ticket", sa.Column("filed_by_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f(name), "ticket", "person", ["filed_by_id"], ["id"])


def _set_person_nullable(nullable: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("ticket", "person_id", existing_type=sa.Integer(), nullable=nullable)
        return
    _sqlite_person_nullable(nullable)


def _sqlite_person_nullable(nullable: bool) -> None:
    """Drop or restore NOT NULL on ticket.person_id by editing the stored CREATE TABLE.

    SQLite cannot ALTER a column's NOT NULL, and rebuilding `ticket` (Alembic's batch copy)
    fails while other tables' rows refer to it with foreign keys on. Removing or adding a NOT
    NULL constraint changes nothing on disk, and for exactly such changes SQLite documents
    this procedure (https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
    Schema Changes"): edit sqlite_schema under writable_schema and bump schema_version, in
    one transaction (the migration's own).
    """
    conn = op.get_bind()
    sql = conn.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ticket'")
    ).scalar_one()
    column = re.compile(r"(\bperson_id\s+INTEGER)(\s+NOT\s+NULL)?(?=\s*[,)])", re.IGNORECASE)
    found = column.search(sql)
    if found is None:
        raise RuntimeError("ticket.person_id not found in the table's definition")
    changed = column.sub(r"\1" if nullable else r"\1 NOT NULL", sql, count=1)
    if changed == sql:
        return
    version = conn.execute(sa.text("PRAGMA schema_version")).scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'ticket'"),
        {"sql": changed},
    )
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")
