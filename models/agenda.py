"""议: the 议题 (agenda item), from a resident's proposal to a decision carried out and judged.

An agenda item is numbered `#N` in its own sequence (the `agenda_number` counter). Its stage
moves one way through the cycle 集·议·办·督·评 as the issue names it:

    proposed ──► accepted ──► deliberating ──► voting ──► publicised ──► carrying_out ──► done
        │           │  (a meeting)   │ (a poll)    │  (公示, 异议)  │ (落实, 进展)     (评议)
        └► declined └──────────────── withdrawn ◄──┴──────────────┘

An admin may publish a decision straight from `accepted` or `deliberating` (consensus recorded
in the minutes, no vote), and may withdraw an item at any point before its work starts. Every
change of stage, and every event people see in the item's timeline (a meeting held, a
progress report, an objection), is one `agenda_event` row, written by `move` or `record`:
the timeline is the item's history as residents and admins read it.

Who an item is for: its community's residents (`community_id`), or the whole street (None),
with the same meaning of "a community's resident" as polls and notices (models/audience.py).
Backing is counted per household or per person (`[deliberation] backing_unit`), one row per
unit: (agenda item, unit) is unique, as a ballot's is.

The stage operations themselves (propose, back, accept, meet, publish, object, assign,
progress, complete, rate) live in the modules named after them, next to this one; this module
holds the tables, the stage rules and the item's one JSON form (`agenda show --json`).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import counters
from .api.webhooks import emit
from .base import Base, UTCDateTime, fits_id

PROPOSED, DECLINED, ACCEPTED = "proposed", "declined", "accepted"
DELIBERATING, VOTING, PUBLICISED = "deliberating", "voting", "publicised"
CARRYING_OUT, DONE, WITHDRAWN = "carrying_out", "done", "withdrawn"
STAGES = (
    PROPOSED,
    DECLINED,
    ACCEPTED,
    DELIBERATING,
    VOTING,
    PUBLICISED,
    CARRYING_OUT,
    DONE,
    WITHDRAWN,
)
# Where an item is still open to residents: listed by 议题, backed, discussed.
OPEN_STAGES = (PROPOSED, ACCEPTED, DELIBERATING, VOTING, PUBLICISED, CARRYING_OUT)
CLOSED_STAGES = (DECLINED, DONE, WITHDRAWN)

# Which stage may follow which. Another meeting or poll on an item already there is no move.
NEXT: dict[str, tuple[str, ...]] = {
    PROPOSED: (ACCEPTED, DECLINED),
    ACCEPTED: (DELIBERATING, VOTING, PUBLICISED, WITHDRAWN),
    DELIBERATING: (VOTING, PUBLICISED, WITHDRAWN),
    VOTING: (DELIBERATING, PUBLICISED, WITHDRAWN),
    PUBLICISED: (CARRYING_OUT, WITHDRAWN),
    CARRYING_OUT: (DONE,),
    DECLINED: (),
    DONE: (),
    WITHDRAWN: (),
}

# Timeline events (agenda_event.kind). A stage's own name is the event of moving there.
PROPOSED_EVENT = PROPOSED
THRESHOLD = "threshold"  # the backing reached the threshold; admins were pushed
MEETING = "meeting"  # a meeting with this item on its agenda was called (text: its number)
MINUTES = "minutes"  # that meeting's minutes were recorded (text: the item's summary)
POLL = "poll"  # a poll on this item was opened (text: its number)
OBJECTION = "objection"  # 异议 during the publicity period (text: as written)
CONFIRMED = "confirmed"  # an admin confirmed the decision after the objections
ASSIGNED = "assigned"  # 落实: owner and due date named
PROGRESS = "progress"  # 进展 (text: as written)
OVERDUE = "overdue"  # the due date passed: warned / escalated (text: the level)
REVIEW = "review"  # the 30-day 回头看 was asked
EVENTS: tuple[str, ...] = (*STAGES, THRESHOLD, MEETING, MINUTES, POLL, OBJECTION, CONFIRMED)
EVENTS += (ASSIGNED, PROGRESS, OVERDUE, REVIEW)

HOUSEHOLD_BACKING, PERSON_BACKING = "household", "person"
ACTOR_MAX = 64  # a staff member's or admin's name as the timeline keeps it
RATING_KEYS = ("1", "2", "3")  # 1 满意 2 基本满意 3 不满意, as tickets are rated


class AgendaItem(Base):
    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(100))  # what the list shows: the text's start
    body: Mapped[str] = mapped_column(Text)  # the proposal exactly as written
    # The community it is for; None: the street's (every community's residents).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), nullable=True)
    # The resident who proposed it (提议); None when an admin opened it (`created_by`).
    proposer_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(ACTOR_MAX), default="")  # an admin, or ""
    stage: Mapped[str] = mapped_column(String(16), default=PROPOSED)
    stage_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Backing: units needed (fixed when proposed, from [deliberation]), counted by unit.
    backing_unit: Mapped[str] = mapped_column(String(16), default=HOUSEHOLD_BACKING)
    backing_needed: Mapped[int] = mapped_column(Integer, default=0)
    threshold_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # 立项 / 不予立项
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 公示: the decision as the committee wrote it, the public page's token, the period.
    decision: Mapped[str | None] = mapped_column(Text, nullable=True)
    public_token: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    publicised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    objections_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The period ended with objections: when the admins were reminded to confirm or withdraw
    # (once; models/sweeps/publicity.py).
    objections_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # 落实: a staff member answerable for it, and the outside party doing it, if any.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    owner_party: Mapped[str | None] = mapped_column(String(64), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    overdue_level: Mapped[int] = mapped_column(Integer, default=0)  # warned / escalated so far
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # 完成: as written
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # 评议 and 回头看: when asked (once each), when the review is due.
    rating_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    review_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_agenda_item_community_stage", "community_id", "stage"),)


class AgendaEvent(Base):
    """One line of an item's timeline."""

    __tablename__ = "agenda_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")  # as written (reason, progress …)
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX), default="")  # staff/admin, or ""
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)


class AgendaBacking(Base):
    """附议: one unit (household "h<id>" or person "p<id>") backing one item."""

    __tablename__ = "agenda_backing"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"))
    unit_key: Mapped[str] = mapped_column(String(24))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("agenda_id", "unit_key", name="uq_agenda_backing_unit"),)


class AgendaObjection(Base):
    """异议 during the publicity period, as written."""

    __tablename__ = "agenda_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgendaRating(Base):
    """评议 (1 满意 2 基本满意 3 不满意) and the 回头看's answer, one row per person."""

    __tablename__ = "agenda_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # 回头看: did the decision hold? True 仍然有效, False 没有坚持; None: not answered.
    held: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (UniqueConstraint("agenda_id", "person_id", name="uq_agenda_rating"),)


class AgendaError(ValueError):
    """A change the cycle's rules refuse; `reason` names which rule (texts key on it)."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def agenda_by_number(db: Session, number: int) -> AgendaItem | None:
    if not fits_id(number):
        return None
    return db.scalar(select(AgendaItem).where(AgendaItem.number == number))


def title_of(text: str, limit: int = 30) -> str:
    """A list's title for a proposal: its first line, cut at `limit` characters with …."""
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def next_number(db: Session) -> int:
    return counters.bump(db, counters.AGENDA_NUMBER)


def record(
    db: Session,
    item: AgendaItem,
    kind: str,
    now: datetime,
    text: str = "",
    actor: str = "",
    person_id: int | None = None,
) -> AgendaEvent:
    """Add one line to the item's timeline."""
    assert kind in EVENTS, kind
    event = AgendaEvent(
        agenda_id=item.id, at=now, kind=kind, text=text, actor=actor, person_id=person_id
    )
    db.add(event)
    db.flush()
    emit(db, f"agenda.{kind}", now, agenda=item, event=event)
    return event


def move(
    db: Session,
    item: AgendaItem,
    stage: str,
    now: datetime,
    text: str = "",
    actor: str = "",
    person_id: int | None = None,
) -> bool:
    """Move the item to `stage` and record it; False (nothing written) when it is there
    already; AgendaError("stage") when the cycle does not allow the move."""
    if item.stage == stage:
        return False
    if stage not in NEXT[item.stage]:
        raise AgendaError("stage", stage=item.stage, wanted=stage, number=item.number)
    item.stage = stage
    item.stage_at = now
    record(db, item, stage, now, text=text, actor=actor, person_id=person_id)
    return True


def needed_backing(threshold: float, households: int) -> int:
    """Units the backing must reach: `threshold` ≥ 1 is a count; 0 < threshold < 1 a share
    of the households in scope (rounded up, at least 1); 0 means no threshold (0)."""
    if threshold <= 0:
        return 0
    if threshold >= 1:
        return int(threshold)
    return max(1, math.ceil(threshold * households))


def backing_count(db: Session, agenda_id: int) -> int:
    found = db.scalar(
        select(func.count(AgendaBacking.id)).where(AgendaBacking.agenda_id == agenda_id)
    )
    return int(found or 0)


def backing_counts(db: Session, agenda_ids: list[int]) -> dict[int, int]:
    """Backing per item, in one grouped query (a page of items)."""
    if not agenda_ids:
        return {}
    rows = db.execute(
        select(AgendaBacking.agenda_id, func.count(AgendaBacking.id))
        .where(AgendaBacking.agenda_id.in_(agenda_ids))
        .group_by(AgendaBacking.agenda_id)
    )
    return {agenda_id: int(count) for agenda_id, count in rows}


def timeline(db: Session, agenda_id: int) -> list[AgendaEvent]:
    return list(
        db.scalars(
            select(AgendaEvent)
            .where(AgendaEvent.agenda_id == agenda_id)
            .order_by(AgendaEvent.at, AgendaEvent.id)
        )
    )


def rating_counts(db: Session, agenda_id: int) -> dict[str, int]:
    rows = db.execute(
        select(AgendaRating.rating, func.count(AgendaRating.id))
        .where(AgendaRating.agenda_id == agenda_id, AgendaRating.rating.is_not(None))
        .group_by(AgendaRating.rating)
    ).all()
    counts = dict.fromkeys(RATING_KEYS, 0)
    for rating, count in rows:
        counts[str(rating)] = int(count)
    return counts


def satisfaction(counts: dict[str, int]) -> float | None:
    """满意率 as tickets count it: (满意 + 基本满意) / all ratings; None without ratings."""
    total = sum(counts.values())
    return (counts["1"] + counts["2"]) / total if total else None


def public_url(item: AgendaItem, base: str) -> str | None:
    """The public page's address (`/p/<token>`), under [app] public_url when set."""
    if item.public_token is None:
        return None
    return f"{base.rstrip('/')}/p/{item.public_token}"
