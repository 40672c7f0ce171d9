"""Who may see what in the console: the signed-in account, roles, and the guard on every route.

Every console view declares its least role with `@requires(...)` (or `@public`); the guard,
run before every console request, refuses anonymous users (a redirect to the login form) and
too-low roles (403). A view that declares nothing is refused to everyone: fail closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort, current_app, request
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy.orm import Session

from models import ConsoleAccount, ConsoleRole, Person, Scope
from models.accounts import session_account
from models.lifecycle import SYSTEM, Actor, actor_for

from ..extension import yishiting

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
REQUIRED_ROLE = "required_role"

login_manager = LoginManager()
login_manager.login_view = "console_auth.login"
login_manager.login_message = "请先登录。"
login_manager.session_protection = "strong"


@dataclass
class ConsoleUser(UserMixin):
    """The signed-in account, as each request sees it (read once per request)."""

    account_id: int
    username: str
    role: ConsoleRole
    person_id: int | None
    person_name: str | None
    # Part of a digest of the password hash: a new password ends every session made before.
    fingerprint: str = ""
    # Names this session's row (models.accounts.ConsoleSession): logout deletes it.
    session_token: str = ""
    # The community the account works in; None: the street office (every community).
    community_id: int | None = None

    def get_id(self) -> str:
        return f"{self.account_id}:{self.fingerprint}:{self.session_token}"

    def may(self, role: ConsoleRole) -> bool:
        return self.role >= role

    @property
    def scope(self) -> Scope:
        """What this account sees and acts on: its community, or the whole street."""
        return Scope(self.community_id)

    @property
    def display_name(self) -> str:
        return self.person_name or self.username

    def actor(self, db: Session) -> Actor:
        """Who the lifecycle sees acting: the linked staff member, else an admin as the system."""
        if self.person_id is not None:
            return actor_for(db, self.person_id)
        if self.role >= ConsoleRole.ADMIN:
            return SYSTEM
        return Actor(None)


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def user_for(account: ConsoleAccount, person: Person | None, token: str) -> ConsoleUser:
    """The signed-in user for an account and its session token."""
    return ConsoleUser(
        account.id,
        account.username,
        account.console_role,
        account.person_id,
        person.name if person else None,
        fingerprint(account.password_hash),
        token,
        account.community_id,
    )


@login_manager.user_loader
def _load_user(user_id: str) -> ConsoleUser | None:
    account_id, seen, token = (user_id.split(":") + ["", ""])[:3]
    if not (account_id.isascii() and account_id.isdigit() and len(account_id) < 10 and token):
        return None  # not ours, or a cookie from before sessions were kept on the server
    ys = yishiting(current_app)
    with ys.db.session(read_only=True) as session:
        account = session_account(session, int(account_id), token, datetime.now(UTC))
        if account is None or fingerprint(account.password_hash) != seen:
            return None  # logged out, gone, or the password changed since this login
        person = session.get(Person, account.person_id) if account.person_id else None
        return user_for(account, person, token)


def current_scope() -> Scope:
    """The signed-in account's scope (models/communities.py): every console query that lists
    or opens rows of a community filters by it."""
    return cast(ConsoleUser, current_user).scope


def requires(role: ConsoleRole) -> Callable[[F], F]:
    """Declare the least role a console view needs."""

    def mark(view: F) -> F:
        setattr(view, REQUIRED_ROLE, role)
        return view

    return mark


def public(view: F) -> F:
    """Declare a console view open to anyone (the login form)."""
    setattr(view, REQUIRED_ROLE, PUBLIC)
    return view


def required_role(endpoint: str | None) -> ConsoleRole | str | None:
    """What a view declared: a role, PUBLIC, or None (nothing: refused to all)."""
    if endpoint is None:
        return None
    if endpoint.endswith(".static"):
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, REQUIRED_ROLE, None)


def guard() -> Response | None:
    """Run before every console request (registered on each console blueprint)."""
    role = required_role(request.endpoint)
    if role == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return cast(Response, login_manager.unauthorized())
    if not isinstance(role, ConsoleRole) or not current_user.may(role):
        abort(403)
    return None


def init_access(app: Flask) -> None:
    login_manager.init_app(app)
