"""People: everyone who has written to the account, and their role."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Enum,
    ForeignKey,
    Integer,
    String,
    Table,
    bindparam,
    case,
    func,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .prepared import Prepared

ACCOUNT_NAME_LENGTH = 32


class Role(enum.IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    RESIDENT = 1
    STAFF = 2
    ADMIN = 3


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=16,
            values_callable=lambda roles: [r.name.lower() for r in roles],
        ),
        default=Role.RESIDENT,
    )
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Any inbound message or event.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last message the person wrote (not an event): it opens WeChat's 48-hour
    # customer-service window, so the delivery channel reads it.
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Customer-service messages sent since the person last wrote (WeChat allows a few).
    cs_sent: Mapped[int] = mapped_column(Integer, default=0)
    # Pushes held for the person's next reply (outbox.py): when 0, replying skips the look.
    held_pushes: Mapped[int] = mapped_column(Integer, default=0)
    # A WeCom (企业微信) user id: staff pushes go there when WeCom is configured.
    wecom_user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Staff: the name residents and colleagues see, and the escalation level (staff.py).
    name: Mapped[str | None] = mapped_column(String(32), nullable=True)
    staff_level: Mapped[int] = mapped_column(Integer, default=0)
    # Staff: their community (None: the street office's staff). Residents: the community
    # they belong to — their bound household's, else the one their account or their choice
    # gave them; None while not known (models/communities.py).
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id"), nullable=True, index=True
    )
    # The latest expiry of the person's pending conversation states (see states.py).
    state_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Rate limits (bot/conversation.py): messages written in the current minute and day,
    # counted by the upsert every message already runs, so limiting costs no query.
    # `rate_minute` is minutes since the epoch; `rate_day` the community's date as an ordinal.
    rate_minute: Mapped[int] = mapped_column(Integer, default=0)
    rate_minute_count: Mapped[int] = mapped_column(Integer, default=0)
    rate_day: Mapped[int] = mapped_column(Integer, default=0)
    rate_day_count: Mapped[int] = mapped_column(Integer, default=0)
    # The Official Account the person writes to (its [[accounts]] name): WeChat gives a person
    # another openid on every account, so a row is one person on one account, and their
    # pushes go out through it. NULL: the deployment's first (or only, legacy) account.
    account: Mapped[str | None] = mapped_column(String(ACCOUNT_NAME_LENGTH), nullable=True)


@dataclass(frozen=True)
class PersonRef:
    """Who sent a message: enough for routing and roles, without loading the ORM object."""

    id: int
    openid: str
    role: Role
    following: bool
    state_expires_at: datetime | None = None
    held_pushes: int = 0
    # Messages written this minute and this day, this one included (0 for an event).
    sent_this_minute: int = 0
    sent_today: int = 0
    # The person's community (models/communities.py); None: not known yet, or street staff.
    community_id: int | None = None


_TABLE = cast(Table, Person.__table__)


def _counted(window: Column[int], count: Column[int], bound: str) -> Any:
    """The count after this message: one more in the same window, else a fresh 1."""
    return case((window == bindparam(bound), count + 1), else_=1)


def _upsert(dialect: Any, *, wrote: bool) -> Any:
    """INSERT a new person, or UPDATE their last-seen times and message counts; RETURNING
    who they are and how much they have written this minute and today."""
    c = _TABLE.c
    # The account is the one the message came in on (an openid belongs to one account).
    changes: dict[str, Any] = {
        "last_seen_at": bindparam("now"),
        "account": bindparam("account"),
        # A community's account gives a resident whose community is not known yet its own;
        # staff keep theirs (None: the street's staff).
        "community_id": case(
            (c.role == Role.RESIDENT, func.coalesce(c.community_id, bindparam("community_id"))),
            else_=c.community_id,
        ),
    }
    if wrote:
        # A new message opens a new customer-service window with a fresh budget.
        changes["last_message_at"] = bindparam("now")
        changes["cs_sent"] = 0
        # Every SET expression reads the row as it was before this UPDATE (SQL's rule).
        changes["rate_minute_count"] = _counted(c.rate_minute, c.rate_minute_count, "minute")
        changes["rate_day_count"] = _counted(c.rate_day, c.rate_day_count, "day")
        changes["rate_minute"] = bindparam("minute")
        changes["rate_day"] = bindparam("day")
    return (
        dialect.insert(_TABLE)
        .values(
            openid=bindparam("openid"),
            role=Role.RESIDENT,
            following=True,
            first_seen_at=bindparam("now"),
            last_seen_at=bindparam("now"),
            last_message_at=bindparam("now") if wrote else None,
            cs_sent=0,
            held_pushes=0,
            staff_level=0,
            rate_minute=bindparam("minute"),
            rate_minute_count=1 if wrote else 0,
            rate_day=bindparam("day"),
            rate_day_count=1 if wrote else 0,
            account=bindparam("account"),
            community_id=bindparam("community_id"),
        )
        .on_conflict_do_update(index_elements=[_TABLE.c.openid], set_=changes)
        .returning(
            _TABLE.c.id,
            _TABLE.c.role,
            _TABLE.c.following,
            _TABLE.c.state_expires_at,
            _TABLE.c.held_pushes,
            _TABLE.c.rate_minute_count,
            _TABLE.c.rate_day_count,
            _TABLE.c.community_id,
        )
    )


# Built once: this runs for every inbound message.
_UPSERTS = {
    (name, wrote): Prepared(_upsert(module, wrote=wrote))
    for name, module in (("sqlite", sqlite), ("postgresql", postgresql))
    for wrote in (True, False)
}


def touch_person(
    conn: Connection,
    openid: str,
    now: datetime,
    *,
    wrote: bool,
    day: int | None = None,
    account: str | None = None,
    community_id: int | None = None,
) -> PersonRef:
    """The person behind `openid`, created on first contact, with their last-seen times and,
    when they `wrote`, this message counted in its minute and its `day` (a date's ordinal:
    the community's date; UTC's when not given); `account`: the [[accounts]] name the message
    came in on (None: the first or legacy account); `community_id`: that account's community
    (None: a street-wide or the legacy account), given to someone whose community is not known.

    One upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING), so two concurrent first
    messages from one person cannot collide, and two concurrent messages count twice.
    """
    statement = _UPSERTS[(conn.dialect.name, wrote)]
    params = {
        "openid": openid,
        "now": now,
        "minute": int(now.timestamp() // 60),
        "day": day if day is not None else now.toordinal(),
        "account": account,
        "community_id": community_id,
    }
    [(person_id, role, following, state_expires, held, minute, today, community)] = statement.run(
        conn, params
    )
    return PersonRef(
        person_id,
        openid,
        role,
        following,
        state_expires,
        held,
        sent_this_minute=minute if wrote else 0,
        sent_today=today if wrote else 0,
        community_id=community,
    )


def set_community(db: Session, person_id: int, community_id: int) -> None:
    """Record the community a resident chose, unless they have one by now (a household
    approved meanwhile, or staff they became: theirs stands)."""
    db.execute(
        update(Person)
        .where(Person.id == person_id, Person.role == Role.RESIDENT, Person.community_id.is_(None))
        .values(community_id=community_id)
    )


def set_following(db: Session, person_id: int, following: bool) -> None:
    """Record a follow (subscribe) or an unfollow (unsubscribe)."""
    db.execute(update(Person).where(Person.id == person_id).values(following=following))
