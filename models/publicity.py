"""表决 · 公示 · 异议: a vote on an agenda item, its decision made public, and objections to it.

- `open_agenda_poll`: a poll (everything polls do) that decides an item; the item moves to
  `voting` and its timeline says which poll.
- `publish`: the decision (as written, else the decided poll's, else the minutes' outcome) is
  made public for `days`: a random token names its public page (/p/<token>), and EVERY resident
  in scope is pushed — not only those who took part — because a 公示 is for all it concerns.
- `object_to`: 异议 N 理由 by a bound resident in scope, during the period; kept as written; the
  community's admins are pushed.
- `confirm` / `withdraw`: an admin's answer once the period is over (withdraw: at any stage the
  cycle allows); models/agenda_people.admins_of names the people who give it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session

from .agenda import (
    ACCEPTED,
    CONFIRMED,
    DELIBERATING,
    OBJECTION,
    POLL,
    PUBLICISED,
    VOTING,
    WITHDRAWN,
    AgendaError,
    AgendaItem,
    AgendaObjection,
    move,
    record,
)
from .agenda_people import admins_of, participants, residents_in_scope
from .audience import reaches
from .meeting_minutes import latest_outcome
from .outbox import enqueue
from .places import approved_binding
from .polls import DECIDED, Poll, PollSpec, close_poll, create_poll
from .pushes import PUBLICITY_OBJECTION, PUBLICITY_PUBLISHED, PUBLICITY_WITHDRAWN

# Where a poll may be opened on an item: on the agenda, at a meeting, or voting already.
POLLABLE = (ACCEPTED, DELIBERATING, VOTING)
# Where a decision may be published from: consensus (minutes) or a vote.
PUBLISHABLE = (ACCEPTED, DELIBERATING, VOTING)
REASON_MAX = 2000
PERIOD_MAX_DAYS = 365  # an objection period longer than a year is a typing mistake


# -- 表决 ------------------------------------------------------------------------------------


def open_agenda_poll(
    db: Session, item: AgendaItem, spec: PollSpec, now: datetime, actor: str = ""
) -> Poll:
    """A poll deciding `item`: its community is the item's (a street-wide item: a street
    poll); the item must be on the agenda (or voting already: a second poll)."""
    if item.stage not in POLLABLE:
        raise AgendaError("stage", stage=item.stage, wanted=VOTING, number=item.number)
    if spec.community_id is None and item.community_id is not None:
        spec = replace(spec, community_id=item.community_id)
    if spec.community_id != item.community_id:
        raise AgendaError("community", number=item.number)
    poll = create_poll(db, spec, now)
    if poll.community_id != item.community_id:  # a grid or buildings elsewhere
        raise AgendaError("community", number=item.number)
    poll.agenda_id = item.id
    move(db, item, VOTING, now, actor=actor)
    record(db, item, POLL, now, text=f"#{poll.number}", actor=actor)
    return poll


# -- 公示 ------------------------------------------------------------------------------------


def decision_for(db: Session, item: AgendaItem, given: str | None = None) -> str | None:
    """The decision to publish: `given` as written; else, once the item was put to a vote,
    the latest decided poll's (a poll still open, or closed with no decision recorded: none
    yet); else the consensus the latest minutes recorded for it; None when there is none."""
    if given is not None and given.strip():
        return given.strip()
    polls = db.execute(
        select(Poll.status, Poll.decision)
        .where(Poll.agenda_id == item.id)
        .order_by(desc(Poll.decided_at), desc(Poll.id))
    ).all()
    if polls:
        if any(status != DECIDED for status, _ in polls):
            return None  # the vote is not over: its decision is still to come
        return next((str(decision) for _, decision in polls if decision), None)
    return latest_outcome(db, item.id)


@dataclass(frozen=True)
class Published:
    item: AgendaItem
    told: int  # residents pushed


def publish(
    db: Session,
    item: AgendaItem,
    now: datetime,
    days: float,
    base_url: str = "",
    decision: str | None = None,
    actor: str = "",
    tz: tzinfo = UTC,
) -> Published:
    """公示: record the decision and the period, make the public page, push everyone in scope."""
    if item.stage not in PUBLISHABLE:
        raise AgendaError("stage", stage=item.stage, wanted=PUBLICISED, number=item.number)
    if not 0 < days <= PERIOD_MAX_DAYS:  # also NaN, which no comparison admits
        raise AgendaError("days", number=item.number, max=PERIOD_MAX_DAYS)
    text = decision_for(db, item, decision)
    if text is None:
        raise AgendaError("no_decision", number=item.number)
    item.decision = text
    item.public_token = secrets.token_urlsafe(16)  # 22 characters: fits String(32), unguessable
    item.publicised_at = now
    item.objections_until = now + timedelta(days=days)
    move(db, item, PUBLICISED, now, text=text, actor=actor)
    url = f"{base_url.rstrip('/')}/p/{item.public_token}" if base_url else None
    people = residents_in_scope(db, item.community_id)
    for person_id in people:
        push = PUBLICITY_PUBLISHED.push(
            person_id,
            agenda=item.id,
            number=item.number,
            title=item.title,
            decision=text,
            until=item.objections_until.astimezone(tz).isoformat(),  # as residents read it
            url=url,
        )
        enqueue(db, push, now)
    return Published(item, len(people))


def in_period(item: AgendaItem, now: datetime) -> bool:
    return (
        item.stage == PUBLICISED
        and item.objections_until is not None
        and now < item.objections_until
    )


# -- 异议 ------------------------------------------------------------------------------------


def object_to(
    db: Session, item: AgendaItem, person_id: int, text: str, now: datetime, tz: tzinfo = UTC
) -> AgendaObjection:
    """异议 by a bound resident in the item's scope, during the period; admins are pushed."""
    if item.stage != PUBLICISED or item.objections_until is None:
        raise AgendaError("not_publicised", number=item.number)
    if now >= item.objections_until:
        raise AgendaError("period_over", number=item.number, until=item.objections_until)
    if approved_binding(db, person_id) is None or not reaches(db, item.community_id, person_id):
        raise AgendaError("not_in_scope", number=item.number)
    reason = text.strip()
    if not reason:
        raise AgendaError("no_reason", number=item.number)
    if len(reason) > REASON_MAX:
        raise AgendaError("too_long", number=item.number, max=REASON_MAX)
    objection = AgendaObjection(agenda_id=item.id, person_id=person_id, text=reason, created_at=now)
    db.add(objection)
    db.flush()
    record(db, item, OBJECTION, now, text=reason, person_id=person_id)
    for admin in admins_of(db, item.community_id):
        push = PUBLICITY_OBJECTION.push(
            admin,
            agenda=item.id,
            number=item.number,
            title=item.title,
            objection=objection.id,
            text=reason,
            until=item.objections_until.astimezone(tz).isoformat(),
        )
        enqueue(db, push, now)
    return objection


def objections(db: Session, agenda_id: int) -> list[AgendaObjection]:
    query = select(AgendaObjection).where(AgendaObjection.agenda_id == agenda_id)
    return list(db.scalars(query.order_by(AgendaObjection.created_at, AgendaObjection.id)))


def objection_count(db: Session, agenda_id: int) -> int:
    query = select(func.count(AgendaObjection.id)).where(AgendaObjection.agenda_id == agenda_id)
    return int(db.scalar(query) or 0)


# -- 确认 / 撤回 ------------------------------------------------------------------------------


def confirm(db: Session, item: AgendaItem, now: datetime, actor: str = "", text: str = "") -> None:
    """The decision stands: after the period (objections had their time), once."""
    if item.stage != PUBLICISED:
        raise AgendaError("not_publicised", number=item.number)
    if item.confirmed_at is not None:
        raise AgendaError("confirmed", number=item.number, at=item.confirmed_at)
    if in_period(item, now):
        raise AgendaError("period_running", number=item.number, until=item.objections_until)
    item.confirmed_at = now
    record(db, item, CONFIRMED, now, text=text, actor=actor)


def withdraw(db: Session, item: AgendaItem, reason: str, now: datetime, actor: str = "") -> int:
    """Withdraw the item (its decision, once published), with the reason; returns how many
    were told. A published decision was pushed to every resident in scope: they are told
    it is withdrawn. Before 公示 only those who took part knew of it: they are told."""
    if not reason.strip():
        raise AgendaError("no_reason", number=item.number)
    if item.confirmed_at is not None:
        raise AgendaError("confirmed", number=item.number, at=item.confirmed_at)
    was_public = item.stage == PUBLICISED
    move(db, item, WITHDRAWN, now, text=reason.strip(), actor=actor)
    # A vote on a withdrawn item decides nothing: it takes no more ballots, sends no more
    # reminders, and no result push saying "a decision will follow" (the withdrawal push
    # below is what its voters hear).
    for poll in db.scalars(select(Poll).where(Poll.agenda_id == item.id)):
        if close_poll(db, poll, now):
            poll.result_pushed_at = now
    people = residents_in_scope(db, item.community_id) if was_public else participants(db, item)
    for person_id in people:
        push = PUBLICITY_WITHDRAWN.push(
            person_id, agenda=item.id, number=item.number, title=item.title, reason=reason.strip()
        )
        enqueue(db, push, now)
    return len(people)
