"""提议 · 附议 · 立项: a resident proposes a 议题, neighbours back it, an admin accepts or
declines it (or opens one directly).

Who may propose and back: bound residents (an approved household), since backing counts by
household; the proposer's own unit is the item's first backing. An item is for its
proposer's community (models/audience.py's "resident of"), and its backing threshold is fixed
from [deliberation] the moment it is proposed (`needed_backing`): a later change of the config
does not move the goal of items already open.

One backing per unit is a database fact: (item, unit key) is unique, and `back` writes it with
one INSERT … ON CONFLICT DO NOTHING, so two members of one household backing at the same moment
leave one row, and the one whose row it is not is told the household has backed already. The
admins hear of the threshold once: backings of one item take turns on the item's row lock (so
the count each reads is exact), the UPDATE that stamps `threshold_pushed_at` only matches while
it is unset, and only the writer that stamped it queues the pushes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .agenda import (
    ACCEPTED,
    DECLINED,
    DELIBERATING,
    HOUSEHOLD_BACKING,
    OPEN_STAGES,
    PROPOSED,
    THRESHOLD,
    AgendaBacking,
    AgendaError,
    AgendaItem,
    backing_count,
    move,
    needed_backing,
    next_number,
    record,
    title_of,
)
from .agenda_people import admins_of, backers, households_in_scope, staff_scope
from .audience import reaches, resident_community, several_communities
from .outbox import enqueue
from .people import Person, Role
from .places import APPROVED, Binding
from .pushes import AGENDA_ACCEPTED, AGENDA_DECLINED, AGENDA_THRESHOLD

# Stages in which neighbours may still back an item: until it is put to a vote.
BACKING_STAGES = (PROPOSED, ACCEPTED, DELIBERATING)
TITLE_MAX, REASON_MAX = 100, 2000


@dataclass(frozen=True)
class Backed:
    """What `back` did: `added` a row (False: the unit had backed already), the count now."""

    item: AgendaItem
    added: bool
    count: int
    needed: int
    threshold_reached: bool  # this backing reached the threshold (the admins were pushed)


def _household_of(db: Session, person_id: int) -> int:
    """The person's approved household; AgendaError("pending"/"not_bound") without one."""
    binding = db.scalars(select(Binding).where(Binding.person_id == person_id)).one_or_none()
    if binding is None:
        raise AgendaError("not_bound")
    if binding.status != APPROVED:
        raise AgendaError("pending")
    return binding.household_id


def propose(
    db: Session, person_id: int, text: str, now: datetime, *, unit: str, threshold: float
) -> AgendaItem:
    """File the resident's proposal as a 议题 in their community, backed by their own unit."""
    if not text.strip():
        raise AgendaError("empty")
    _household_of(db, person_id)
    community_id = resident_community(db, person_id)
    households = households_in_scope(db, community_id)
    item = AgendaItem(
        number=next_number(db),
        title=title_of(text),
        body=text,
        community_id=community_id,
        proposer_id=person_id,
        stage=PROPOSED,
        stage_at=now,
        created_at=now,
        backing_unit=unit,
        backing_needed=needed_backing(threshold, households),
    )
    db.add(item)
    db.flush()
    record(db, item, PROPOSED, now, person_id=person_id)
    back(db, item, person_id, now)
    return item


def create(
    db: Session,
    title: str,
    text: str,
    community_id: int | None,
    now: datetime,
    *,
    actor: str,
    unit: str,
    threshold: float,
) -> AgendaItem:
    """An admin opens a 议题 directly: it starts at `accepted` (立项), open to backing."""
    title = _checked_title(title)
    item = AgendaItem(
        number=next_number(db),
        title=title,
        body=text if text.strip() else title,
        community_id=community_id,
        created_by=actor,
        stage=ACCEPTED,
        stage_at=now,
        created_at=now,
        accepted_at=now,
        backing_unit=unit,
        backing_needed=needed_backing(threshold, households_in_scope(db, community_id)),
    )
    db.add(item)
    db.flush()
    record(db, item, ACCEPTED, now, actor=actor)
    return item


def _checked_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise AgendaError("title")
    if len(title) > TITLE_MAX:
        raise AgendaError("title_long", limit=TITLE_MAX)
    return title


def unit_key(db: Session, item: AgendaItem, person_id: int) -> tuple[str, int]:
    """(the unit the person backs for, their household); AgendaError when not bound."""
    household = _household_of(db, person_id)
    if item.backing_unit == HOUSEHOLD_BACKING:
        return f"h{household}", household
    return f"p{person_id}", household


def back(db: Session, item: AgendaItem, person_id: int, now: datetime) -> Backed:
    """附议: the person's unit backs the item, once; AgendaError why not ("other_community",
    "not_bound", "pending", "closed")."""
    # Bound first: staff read every item of their scope by chat, and one who is no resident
    # is told backing needs a household, not that an item they can read is missing.
    key, household = unit_key(db, item, person_id)
    if not reaches(db, item.community_id, person_id):
        raise AgendaError("other_community", number=item.number)
    # Backings of one item take turns (the item's row lock; SQLite has one writer anyway):
    # the count each one reads is then exact, the one that reaches the threshold sees it, and
    # the stage read is the latest (no backing slips in after a decline).
    stage = db.scalar(select(AgendaItem.stage).where(AgendaItem.id == item.id).with_for_update())
    if stage not in BACKING_STAGES:
        raise AgendaError("closed", number=item.number, stage=stage)
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(AgendaBacking).values(
        agenda_id=item.id, unit_key=key, person_id=person_id, household_id=household, created_at=now
    )
    written = db.execute(
        statement.on_conflict_do_nothing(index_elements=["agenda_id", "unit_key"]).returning(
            AgendaBacking.id
        )
    )
    added = written.scalar_one_or_none() is not None  # no row back: the unit had backed
    count = backing_count(db, item.id)
    reached = added and 0 < item.backing_needed <= count and _stamp_threshold(db, item, now)
    if reached:
        record(db, item, THRESHOLD, now, text=f"{count}/{item.backing_needed}")
        _tell_admins(db, item, count, now)
    return Backed(item, added, count, item.backing_needed, reached)


def _stamp_threshold(db: Session, item: AgendaItem, now: datetime) -> bool:
    """Stamp `threshold_pushed_at` if nobody has: True for the one writer that did."""
    stamped = db.execute(
        update(AgendaItem)
        .where(AgendaItem.id == item.id, AgendaItem.threshold_pushed_at.is_(None))
        .values(threshold_pushed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(stamped, "rowcount", 0):
        return False
    item.threshold_pushed_at = now
    return True


def _tell_admins(db: Session, item: AgendaItem, count: int, now: datetime) -> None:
    for person in admins_of(db, item.community_id):
        push = AGENDA_THRESHOLD.push(
            person,
            agenda=item.id,
            number=item.number,
            title=item.title,
            backing=count,
            needed=item.backing_needed,
            unit=item.backing_unit,
        )
        enqueue(db, push, now)


def accept(
    db: Session, item: AgendaItem, now: datetime, *, actor: str, title: str | None = None
) -> bool:
    """立项: onto the agenda; the proposer and backers are told. False: accepted already.
    `title`: the committee's name for the item from now on (minutes, polls, the public 公示
    page) in place of the start of the proposal, a resident's own words."""
    checked = _checked_title(title) if title is not None and title.strip() else None
    if not move(db, item, ACCEPTED, now, actor=actor):
        return False
    item.accepted_at = now
    if checked is not None:
        item.title = checked
    _tell_people(db, item, now, reason=None)
    return True


def decline(db: Session, item: AgendaItem, reason: str, now: datetime, *, actor: str) -> bool:
    """不予立项 with the reason as written; the proposer and backers are told it. False:
    declined already."""
    if not reason.strip():
        raise AgendaError("reason")
    if len(reason) > REASON_MAX:
        raise AgendaError("reason_long", limit=REASON_MAX)
    if not move(db, item, DECLINED, now, text=reason, actor=actor):
        return False
    item.decline_reason = reason
    _tell_people(db, item, now, reason=reason)
    return True


def _tell_people(db: Session, item: AgendaItem, now: datetime, *, reason: str | None) -> None:
    people = set(backers(db, item.id))
    if item.proposer_id is not None:
        people.add(item.proposer_id)
    values = {"agenda": item.id, "number": item.number, "title": item.title}
    for person in sorted(people):
        if reason is None:
            push = AGENDA_ACCEPTED.push(person, **values)
        else:
            push = AGENDA_DECLINED.push(person, **values, reason=reason)
        enqueue(db, push, now)


def _is_staff(db: Session, person_id: int) -> bool:
    person = db.get(Person, person_id)
    return person is not None and person.role >= Role.STAFF


def open_items_for(db: Session, person_id: int, limit: int = 10) -> list[AgendaItem]:
    """The open items `议题` lists: a resident's community's and the street's; a staff
    member's scope's (the street's staff: every community's)."""
    query = select(AgendaItem).where(AgendaItem.stage.in_(OPEN_STAGES))
    if several_communities(db):
        staff = _is_staff(db, person_id)
        scope = staff_scope(db, person_id) if staff else None
        mine = scope.community_id if scope else resident_community(db, person_id)
        if mine is not None or not staff:  # the street's staff read every community's
            in_mine = or_(AgendaItem.community_id.is_(None), AgendaItem.community_id == mine)
            query = query.where(in_mine)
    return list(db.scalars(query.order_by(AgendaItem.number.desc()).limit(limit)))


def visible_to(db: Session, item: AgendaItem, person_id: int) -> bool:
    """The person may read the item by chat: a resident their community's and the street's,
    staff their scope's (so the owner reads what they carry out); another community's
    answers like a missing number. Every chat command on an item asks this."""
    if _is_staff(db, person_id):
        return staff_scope(db, person_id).covers(item.community_id)
    return reaches(db, item.community_id, person_id)
