"""Staff: who handles which topics and grids, at which level of the escalation ladder.

The ladder ("小事不出社区、大事不出街道"): level 1 — grid workers and topic staff; level 2 —
the community's supervisors (社区); level 3 — the street office's contacts (街道). An overdue
ticket climbs one level at a time.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .people import Person, Role
from .places import Grid, grid_by_name, worker_grid_ids
from .topics import Topic, topic_by_name

LEVEL_STAFF = 1
LEVEL_COMMUNITY = 2
LEVEL_STREET = 3


class StaffTopic(Base):
    __tablename__ = "staff_topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)

    __table_args__ = (UniqueConstraint("person_id", "topic_id", name="uq_staff_topic_pair"),)


class StaffGrid(Base):
    __tablename__ = "staff_grid"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), index=True)

    __table_args__ = (UniqueConstraint("person_id", "grid_id", name="uq_staff_grid_pair"),)


class StaffCode(Base):
    """A one-time code an admin issues; the person sends `员工 CODE` to become that staff."""

    __tablename__ = "staff_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the code
    name: Mapped[str] = mapped_column(String(32))
    spec: Mapped[str] = mapped_column(Text)  # JSON: topics, grids, level, wecom_user
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    level: Mapped[int] = mapped_column(Integer, default=LEVEL_STAFF)
    # The community the new staff member joins; None: the street's staff.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), nullable=True)


LEVELS = (LEVEL_STAFF, LEVEL_COMMUNITY, LEVEL_STREET)
# No 0/O, 1/I/L: a code read aloud or copied by hand is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_TTL = timedelta(days=7)


class StaffError(ValueError):
    """A staff change that cannot be made; the subclass says why."""


class UnknownTopic(StaffError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no topic named {name!r}")
        self.name = name


class UnknownGrid(StaffError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no grid named {name!r}")
        self.name = name


class CodeUnknown(StaffError):
    """No code like this was issued."""


class CodeUsed(StaffError):
    """The code was redeemed already."""


class CodeExpired(StaffError):
    """The code's time ran out."""


def add_staff(
    db: Session,
    openid: str,
    name: str,
    topics: Sequence[str],
    grids: Sequence[str],
    wecom_user: str | None,
    level: int,
    now: datetime,
) -> Person:
    """Make `openid` staff (created if never seen) handling `topics` in `grids`.

    Role STAFF unless already ADMIN; name and level set; the topic and grid assignments
    replaced by these; the WeCom user id set when given (None keeps the current one).
    Raises UnknownTopic / UnknownGrid before changing anything.
    """
    topic_rows, grid_rows = _resolve(db, topics, grids, level)
    person = db.scalars(select(Person).where(Person.openid == openid)).one_or_none()
    if person is None:
        person = Person(
            openid=openid,
            role=Role.STAFF,
            following=True,  # they may follow already; an unsubscribe event corrects it
            first_seen_at=now,
            last_seen_at=now,
            cs_sent=0,
            staff_level=level,
        )
        db.add(person)
        db.flush()
    _make_staff(db, person, name, topic_rows, grid_rows, wecom_user, level)
    return person


def _resolve(
    db: Session, topics: Sequence[str], grids: Sequence[str], level: int
) -> tuple[list[Topic], list[Grid]]:
    if level not in LEVELS:
        raise StaffError(f"level must be one of {LEVELS}, not {level}")
    topic_rows: list[Topic] = []
    for topic_name in dict.fromkeys(topics):
        topic = topic_by_name(db, topic_name)
        if topic is None:
            raise UnknownTopic(topic_name)
        topic_rows.append(topic)
    grid_rows: list[Grid] = []
    for grid_name in dict.fromkeys(grids):
        grid = grid_by_name(db, grid_name)
        if grid is None:
            raise UnknownGrid(grid_name)
        grid_rows.append(grid)
    return topic_rows, grid_rows


def _make_staff(
    db: Session,
    person: Person,
    name: str,
    topics: list[Topic],
    grids: list[Grid],
    wecom_user: str | None,
    level: int,
) -> None:
    if person.role < Role.STAFF:
        person.role = Role.STAFF
    person.name = name.strip()[:32]
    person.staff_level = level
    if wecom_user:
        person.wecom_user_id = wecom_user
    db.execute(delete(StaffTopic).where(StaffTopic.person_id == person.id))
    db.execute(delete(StaffGrid).where(StaffGrid.person_id == person.id))
    db.add_all(StaffTopic(person_id=person.id, topic_id=t.id) for t in topics)
    db.add_all(StaffGrid(person_id=person.id, grid_id=g.id) for g in grids)
    db.flush()


def issue_code(
    db: Session,
    name: str,
    topics: Sequence[str],
    grids: Sequence[str],
    level: int,
    wecom_user: str | None,
    now: datetime,
    ttl: timedelta = CODE_TTL,
    community_id: int | None = None,
) -> str:
    """A one-time code that makes whoever sends `员工 CODE` this staff member (of
    `community_id`; None: the street's); kept hashed."""
    topic_rows, grid_rows = _resolve(db, topics, grids, level)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    spec = {
        "topics": [t.name for t in topic_rows],
        "grids": [g.name for g in grid_rows],
        "level": level,
        "wecom_user": wecom_user,
    }
    db.add(
        StaffCode(
            code_hash=_hash(code),
            name=name.strip()[:32],
            spec=json.dumps(spec, ensure_ascii=False),
            created_at=now,
            expires_at=now + ttl,
            level=level,
            community_id=community_id,
        )
    )
    db.flush()
    return code


def redeem_code(db: Session, person_id: int, code: str, now: datetime) -> Person:
    """Use a code: the person becomes the staff member it was issued for.

    Raises CodeUnknown, CodeUsed or CodeExpired (and UnknownTopic / UnknownGrid when one
    was removed since the code was issued).
    """
    normalized = "".join(c for c in code.upper() if c.isalnum())
    row = db.scalars(select(StaffCode).where(StaffCode.code_hash == _hash(normalized))).first()
    if row is None:
        raise CodeUnknown("no such code")
    if row.used_at is not None:
        raise CodeUsed("the code was used already")
    if row.expires_at <= now:
        raise CodeExpired("the code has expired")
    spec = json.loads(row.spec)
    topics, grids = _resolve(db, spec.get("topics", []), spec.get("grids", []), row.level)
    person = db.get(Person, person_id)
    if person is None:
        raise StaffError(f"no person {person_id}")
    _make_staff(db, person, row.name, topics, grids, spec.get("wecom_user"), row.level)
    row.used_at = now
    row.used_by = person_id
    db.flush()
    return person


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StaffMember:
    """A staff member as `staff list` shows them."""

    openid: str
    name: str | None
    role: Role
    level: int
    topics: tuple[str, ...]
    grids: tuple[str, ...]  # assigned (staff add) and worked (places import), without repeats
    wecom_user: str | None
    person_id: int = 0


def staff_members(db: Session) -> list[StaffMember]:
    """Everyone with the role STAFF or ADMIN, by level then name."""
    people = db.scalars(
        select(Person)
        .where(Person.role.in_((Role.STAFF, Role.ADMIN)))  # stored as names, not ranks
        .order_by(Person.staff_level, Person.name, Person.openid)
    ).all()
    topics: dict[int, list[str]] = {}
    for person_id, topic in db.execute(
        select(StaffTopic.person_id, Topic.name)
        .join(Topic, Topic.id == StaffTopic.topic_id)
        .order_by(Topic.sort_order, Topic.id)
    ):
        topics.setdefault(person_id, []).append(topic)
    grids: dict[int, list[str]] = {}
    assigned = select(StaffGrid.person_id, Grid.name).join(Grid, Grid.id == StaffGrid.grid_id)
    worked = select(Grid.worker_id, Grid.name).where(Grid.worker_id.is_not(None))
    for person_id, grid in [*db.execute(assigned), *db.execute(worked)]:
        if person_id is not None and grid not in grids.setdefault(person_id, []):
            grids[person_id].append(grid)
    return [
        StaffMember(
            p.openid,
            p.name,
            p.role,
            p.staff_level,
            tuple(topics.get(p.id, [])),
            tuple(sorted(grids.get(p.id, []))),
            p.wecom_user_id,
            p.id,
        )
        for p in people
    ]


def staff_assignment(db: Session, person_id: int) -> tuple[list[str], list[str]]:
    """The topics and grids assigned to a staff member (not the grids they are worker of)."""
    topics = db.scalars(
        select(Topic.name)
        .join(StaffTopic, StaffTopic.topic_id == Topic.id)
        .where(StaffTopic.person_id == person_id)
        .order_by(Topic.sort_order, Topic.id)
    ).all()
    grids = db.scalars(
        select(Grid.name)
        .join(StaffGrid, StaffGrid.grid_id == Grid.id)
        .where(StaffGrid.person_id == person_id)
        .order_by(Grid.name)
    ).all()
    return list(topics), list(grids)


def reviewable_grids(db: Session, person: Person) -> list[int] | None:
    """The grids whose household bindings `person` may approve or reject (审核): None for
    every grid (admins and supervisors, level 2+), else the grids they are the worker of."""
    if person.role >= Role.ADMIN or person.staff_level >= LEVEL_COMMUNITY:
        return None
    return worker_grid_ids(db, person.id)
