"""`admin create` and `admin password`: console (管理后台) accounts."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ConsoleRole, Person
from models.accounts import AccountError, account_by_username, count_accounts, create_account

from ..db import Database
from .common import community_option, config_option, scope_of, settings_from

FIRST_ADMIN = "admin"
MIN_PASSWORD = 8


def _hash(password: str) -> str:
    from ..console.auth import hash_password

    return hash_password(password)


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"a password has at least {MIN_PASSWORD} characters")
    return password


def create_first_admin(session: Session) -> str | None:
    """Called by `init`: when there is no account at all, make `admin` with a random password
    and return it (shown once, never stored in the clear); otherwise None."""
    if count_accounts(session):
        return None
    password = secrets.token_urlsafe(12)
    create_account(session, FIRST_ADMIN, _hash(password), ConsoleRole.ADMIN, datetime.now(UTC))
    return password


@click.group()
def admin() -> None:
    """Console accounts: create them, set their passwords."""


@admin.command("create")
@config_option
@click.option("--username", required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters (asked for when not given).",
)
@click.option(
    "--role",
    type=click.Choice(["admin", "staff", "viewer"]),
    default="admin",
    show_default=True,
)
@click.option("--openid", help="Link a staff member's WeChat identity: their acts are theirs.")
@click.option(
    "--community",
    metavar="NAME",
    help="The community the account works in (sees and acts on that community only); "
    "without it, a street account (every community).",
)
def create(
    config_path: str | None,
    username: str,
    password: str,
    role: str,
    openid: str | None,
    community: str | None,
) -> None:
    """Create a console account; prints `account USERNAME (ROLE) created`."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session() as session:
            scope = scope_of(session, community)
            person = None
            if openid:
                person = session.scalar(select(Person).where(Person.openid == openid))
                # A community's account acts as one of its own staff (or the street's).
                if person is None or not scope.covers(person.community_id):
                    raise click.ClickException(f"no person with openid {openid}")
            create_account(
                session,
                username,
                _hash(_check_password(password)),
                ConsoleRole.parse(role),
                datetime.now(UTC),
                person,
                scope.community_id,
            )
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(f"account {username} ({role}) created")  # unchanged: scripts read this line


@admin.command("password")
@config_option
@click.argument("username")
@click.option(
    "--password",
    prompt="New password",
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters (asked for when not given).",
)
@community_option
def password(config_path: str | None, username: str, password: str, community: str | None) -> None:
    """Set USERNAME's password; prints `password changed for USERNAME`."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session() as session:
            account = account_by_username(session, username)
            # With --community: another community's (or a street) account is not found.
            scope = scope_of(session, community)
            if account is None or not scope.owns(account.community_id):
                raise click.ClickException(f"no console account named {username}")
            account.password_hash = _hash(_check_password(password))
    finally:
        db.dispose()
    click.echo(f"password changed for {username}")
