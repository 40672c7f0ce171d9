"""accounts: the Official Account each person writes to; access tokens per account

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# person.account: the [[accounts]] name a person writes to; NULL (every existing row) is the
# deployment's first or only account, so a single-account database needs no data change.
# access_token.app: "wechat", "wecom" and now "wechat:<AppID>" per [[accounts]] entry, which
# can pass 32 characters. The legacy account keeps its "wechat" row (bot/config/accounts.py).


def upgrade() -> None:
    # Plain ADD COLUMN: a batch would copy and drop `person`, which other tables refer to.
    op.add_column("person", sa.Column("account", sa.String(length=32), nullable=True))
    with op.batch_alter_table("access_token") as batch:
        batch.alter_column(
            "app", existing_type=sa.String(length=32), type_=sa.String(length=64), nullable=False
        )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM access_token WHERE length(app) > 32"))
    with op.batch_alter_table("access_token") as batch:
        batch.alter_column(
            "app", existing_type=sa.String(length=64), type_=sa.String(length=32), nullable=False
        )
    # SQLite (3.35+) drops a column that is not indexed.
    op.drop_column("person", "account")
