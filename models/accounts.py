"""Console (管理后台) accounts and the record of failed logins that throttles guessing.

Passwords arrive here already hashed (the console hashes them with werkzeug's scrypt): this
package imports SQLAlchemy only.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, case, delete, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .people import Person


class ConsoleRole(enum.IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    VIEWER = 1  # reads every page, changes nothing
    STAFF = 2  # works tickets (as their linked WeChat identity), approves bindings
    ADMIN = 3  # everything: rules, polls, people, accounts, the outbox

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> ConsoleRole:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r} (admin, staff or viewer)") from None


class ConsoleAccount(Base):
    __tablename__ = "console_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="admin")
    # A staff member's WeChat identity: what they do here is recorded as theirs, as in chat.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    # The community the account works in; None: the street office (sees every community).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def console_role(self) -> ConsoleRole:
        return ConsoleRole.parse(self.role)


class LoginFailure(Base):
    """One failed login attempt: counted per username and per address over a window."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_login_failure_username", "username", "at"),
        Index("ix_login_failure_address", "address", "at"),
    )


class ConsoleSession(Base):
    """One signed-in console session. The cookie carries its token (only the token's digest is
    stored); logging out deletes the row, so a copy of the cookie stops working with it."""

    __tablename__ = "console_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("console_account.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# A session nobody logged out of ends after this long all the same (and its row goes).
SESSION_MAX_AGE = timedelta(days=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(db: Session, account_id: int, now: datetime) -> str:
    """A new session for the account; returns the token its cookie carries."""
    db.execute(delete(ConsoleSession).where(ConsoleSession.created_at < now - SESSION_MAX_AGE))
    token = secrets.token_urlsafe(24)
    db.add(ConsoleSession(account_id=account_id, token_digest=_digest(token), created_at=now))
    db.flush()
    return token


def session_account(
    db: Session, account_id: int, token: str, now: datetime
) -> ConsoleAccount | None:
    """The account of a session still open (not logged out of, not too old), else None."""
    return db.scalar(
        select(ConsoleAccount)
        .join(ConsoleSession, ConsoleSession.account_id == ConsoleAccount.id)
        .where(
            ConsoleAccount.id == account_id,
            ConsoleSession.token_digest == _digest(token),
            ConsoleSession.created_at >= now - SESSION_MAX_AGE,
        )
    )


def end_session(db: Session, token: str) -> None:
    db.execute(delete(ConsoleSession).where(ConsoleSession.token_digest == _digest(token)))


class AccountError(ValueError):
    pass


USERNAME_MAX = 64


def account_by_username(db: Session, username: str) -> ConsoleAccount | None:
    return db.scalar(select(ConsoleAccount).where(ConsoleAccount.username == username))


def create_account(
    db: Session,
    username: str,
    password_hash: str,
    role: ConsoleRole,
    now: datetime,
    person: Person | None = None,
    community_id: int | None = None,
) -> ConsoleAccount:
    """A new account; `community_id` the community it works in (None: the street office)."""
    username = username.strip()
    if not username or len(username) > USERNAME_MAX or any(c.isspace() for c in username):
        raise AccountError("a username is 1–64 characters without spaces")
    if account_by_username(db, username) is not None:
        raise AccountError(f"an account named {username!r} exists already")
    account = ConsoleAccount(
        username=username,
        password_hash=password_hash,
        role=role.label,
        person_id=person.id if person else None,
        community_id=community_id,
        created_at=now,
    )
    db.add(account)
    db.flush()
    return account


def count_accounts(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(ConsoleAccount)) or 0)


@dataclass(frozen=True)
class Failures:
    pair: int  # this username from this address
    address: int  # any username from this address
    username: int  # this username from anywhere


def recent_failures(db: Session, username: str, address: str, since: datetime) -> Failures:
    """Failed logins since `since`, counted three ways (one query)."""
    row = db.execute(
        select(
            func.count(case((LoginFailure.address == address, 1))),
            func.count(case((LoginFailure.username == username, 1))),
        ).where(
            LoginFailure.at >= since,
            or_(LoginFailure.username == username, LoginFailure.address == address),
        )
    ).one()
    pair = db.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.username == username,
            LoginFailure.address == address,
            LoginFailure.at >= since,
        )
    )
    return Failures(int(pair or 0), int(row[0] or 0), int(row[1] or 0))


def record_failure(db: Session, username: str, address: str, now: datetime) -> None:
    db.add(LoginFailure(username=username[:USERNAME_MAX], address=address[:64], at=now))
    # Keep the table small: failures older than a day count for nothing.
    db.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))


def clear_failures(db: Session, username: str, address: str) -> None:
    """After a successful login: this account's failures from this address only (a login to
    one's own account must not wipe the count of guesses at others from the same place)."""
    db.execute(
        delete(LoginFailure).where(
            LoginFailure.username == username, LoginFailure.address == address
        )
    )


def accounts_with_people(db: Session) -> list[tuple[ConsoleAccount, Person | None]]:
    """Every console account, by username, with the staff member it is linked to."""
    rows = db.execute(
        select(ConsoleAccount, Person)
        .outerjoin(Person, Person.id == ConsoleAccount.person_id)
        .order_by(ConsoleAccount.username)
    ).all()
    return [(account, person) for account, person in rows]


def _account(db: Session, account_id: int) -> ConsoleAccount:
    account = db.get(ConsoleAccount, account_id)
    if account is None:
        raise AccountError(f"no account {account_id}")
    return account


class LastAdmin(AccountError):
    """The change would leave the console without an admin."""


def set_role(db: Session, account_id: int, role: ConsoleRole) -> ConsoleAccount:
    """Change an account's role; the last admin cannot stop being one (LastAdmin)."""
    account = _account(db, account_id)
    if account.console_role is ConsoleRole.ADMIN and role is not ConsoleRole.ADMIN:
        admins = db.scalar(
            select(func.count())
            .select_from(ConsoleAccount)
            .where(ConsoleAccount.role == ConsoleRole.ADMIN.label)
        )
        if int(admins or 0) <= 1:
            raise LastAdmin("the last admin account must stay an admin")
    account.role = role.label
    db.flush()
    return account


def link_person(db: Session, account_id: int, person_id: int | None) -> ConsoleAccount:
    """Link an account to a person's WeChat identity (None unlinks it)."""
    account = _account(db, account_id)
    if person_id is not None and db.get(Person, person_id) is None:
        raise AccountError(f"no person {person_id}")
    account.person_id = person_id
    db.flush()
    return account
