"""The life of a ticket: its states, the moves between them, and who is told what.

| move     | from                               | to          | by                      |
|----------|------------------------------------|-------------|-------------------------|
| accept   | new, reopened, escalated           | accepted    | 接单 N                  |
| progress | accepted                           | in_progress | 备注 N 文本             |
| resolve  | accepted, in_progress              | resolved    | 办结 N 处理结果         |
| close    | resolved                           | closed      | 评价 1 / 2, or no answer |
| reopen   | resolved (不满意), closed (回头看) | reopened    | the resident            |
| escalate | any open state                     | escalated   | the deadline sweep      |
| reject   | new, accepted                      | rejected    | 退回 N 理由             |

Open states: new, accepted, in_progress, reopened, escalated. 转派 (reassign) changes who
holds an open ticket (and its topic); the new holder accepts it afresh.

Every move is a compare-and-set UPDATE (the row changes only if it is still in a `from` state,
and for `accept` only if nobody else holds it), so two staff who accept at once cannot both
win: the loser gets `Taken` with the winner's id. Every change is a `TicketEvent` — the
ticket's timeline. The pushes a change causes are queued in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .api.webhooks import emit
from .community_topics import SwitchedOff, enabled_in, sla_in
from .flood import supporter_ids
from .outbox import enqueue
from .people import Person, Role
from .pushes import (
    TICKET_ACCEPTED,
    TICKET_ASSIGNED,
    TICKET_ESCALATED,
    TICKET_ESCALATED_AWAY,
    TICKET_REJECTED,
    TICKET_RESOLVED,
    TICKET_SUPPORTED_REJECTED,
    TICKET_SUPPORTED_RESOLVED,
    TICKET_TRANSFERRED,
    PushKind,
)
from .routing import Place, Route, building_place, duty_at_level, route, route_at
from .staff import LEVEL_COMMUNITY
from .tickets import OPEN_STATUSES, Ticket, TicketEvent, assigned_push
from .topics import Topic

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({"new", "reopened", "escalated"}), "accepted"),
    "progress": (frozenset({"accepted"}), "in_progress"),
    "resolve": (frozenset({"accepted", "in_progress"}), "resolved"),
    "close": (frozenset({"resolved"}), "closed"),
    "reopen": (frozenset({"resolved", "closed"}), "reopened"),
    "escalate": (frozenset(OPEN_STATUSES), "escalated"),
    "reject": (frozenset({"new", "accepted"}), "rejected"),
}


class IllegalMove(Exception):
    """The ticket is not in a state this move starts from."""

    def __init__(self, ticket: Ticket, action: str) -> None:
        super().__init__(f"#{ticket.number}: cannot {action} a ticket that is {ticket.status}")
        self.ticket = ticket
        self.action = action


class Taken(Exception):
    """Someone else holds the ticket."""

    def __init__(self, ticket: Ticket, holder: Person | None) -> None:
        super().__init__(f"#{ticket.number} is held by another person")
        self.ticket = ticket
        self.holder = holder


class NotYours(Exception):
    """The actor may not do this to the ticket (it is assigned to someone else)."""

    def __init__(self, ticket: Ticket, holder: Person | None) -> None:
        super().__init__(f"#{ticket.number} is assigned to another person")
        self.ticket = ticket
        self.holder = holder


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (staff, admin or the resident), or the system (id None)."""

    id: int | None
    role: Role = Role.RESIDENT
    level: int = 0

    @property
    def overrides(self) -> bool:
        """Supervisors and admins may act on tickets assigned to others."""
        return self.role >= Role.ADMIN or self.level >= LEVEL_COMMUNITY


SYSTEM = Actor(None, Role.ADMIN, 99)


def actor_for(db: Session, person_id: int) -> Actor:
    person = db.get(Person, person_id)
    if person is None:
        return Actor(person_id)
    return Actor(person.id, person.role, person.staff_level)


def record_event(
    db: Session,
    ticket: Ticket,
    action: str,
    actor: Actor,
    now: datetime,
    *,
    before: str | None = None,
    note: str | None = None,
) -> None:
    db.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            actor_id=actor.id,
            action=action,
            from_status=before,
            to_status=ticket.status,
            note=note,
        )
    )


def move(
    db: Session,
    ticket: Ticket,
    action: str,
    actor: Actor,
    now: datetime,
    *,
    note: str | None = None,
    values: dict[str, Any] | None = None,
    holder_must_be: int | None = None,
    event: str | None = None,
) -> str:
    """Compare-and-set the ticket from one of the move's `from` states to its `to` state.

    Returns the state it left. Raises IllegalMove, or Taken when `holder_must_be` is given
    and someone else holds the ticket now.
    """
    sources, target = TRANSITIONS[action]
    before = ticket.status
    conditions = [Ticket.id == ticket.id, Ticket.status.in_(sources)]
    if holder_must_be is not None:
        conditions.append(or_(Ticket.assignee_id.is_(None), Ticket.assignee_id == holder_must_be))
    result = db.execute(
        update(Ticket)
        .where(*conditions)
        .values(status=target, updated_at=now, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    db.refresh(ticket)
    if result.rowcount == 0:  # type: ignore[attr-defined]
        if holder_must_be is not None and ticket.status in sources:
            raise Taken(ticket, _person(db, ticket.assignee_id))
        if holder_must_be is not None and ticket.status == target:
            raise Taken(ticket, _person(db, ticket.assignee_id))
        raise IllegalMove(ticket, action)
    record_event(db, ticket, event or action, actor, now, before=before, note=note)
    return before


def _person(db: Session, person_id: int | None) -> Person | None:
    return db.get(Person, person_id) if person_id is not None else None


def _check_holder(db: Session, ticket: Ticket, actor: Actor) -> None:
    if ticket.assignee_id not in (None, actor.id) and not actor.overrides:
        raise NotYours(ticket, _person(db, ticket.assignee_id))


def route_again(db: Session, ticket: Ticket, topic_id: int | None) -> Route:
    """Route an existing ticket afresh: by where its resident lives, as when it was filed;
    a ticket about a place its report named (Ticket.spot: 3号楼, 东门) by that place's grid and
    building, as when it was filed; a ticket staff filed for someone unknown has no resident,
    so by its building."""
    if ticket.spot is not None:
        spot = Place(
            ticket.grid_id,
            ticket.place or "",
            None,
            ticket.building_id,
            ticket.community_id,
            ticket.spot,
            ticket.spot_from,
        )
        return route_at(db, spot, topic_id, ticket.community_id)
    if ticket.person_id is None:
        place = building_place(db, ticket.building_id) if ticket.building_id else None
        return route_at(db, place, topic_id, ticket.community_id)
    return route(
        db, person_id=ticket.person_id, topic_id=topic_id, community_id=ticket.community_id
    )


def tell_resident(
    db: Session, ticket: Ticket, kind: PushKind, now: datetime, **values: Any
) -> None:
    """Push `kind` about the ticket to the resident who filed it."""
    if ticket.person_id is None:
        # Filed by staff for a resident the account does not know (models/onbehalf.py):
        # nobody to push to (a push without a person is a broadcast); staff call back.
        return
    push = kind.push(ticket.person_id, ticket=ticket.id, number=ticket.number, now=now, **values)
    enqueue(db, push, now)


def tell_supporters(
    db: Session, ticket: Ticket, kind: PushKind, now: datetime, **values: Any
) -> None:
    """The outcome to each resident who seconded the ticket (附议, flood.py)."""
    if not ticket.supporters:
        return  # the common case: no query
    for person_id in supporter_ids(db, ticket.id):
        push = kind.push(person_id, ticket=ticket.id, number=ticket.number, now=now, **values)
        enqueue(db, push, now)


def _topic_name(ticket: Ticket) -> str | None:
    return ticket.topic.name if ticket.topic is not None else None


def push_assignee(
    db: Session,
    ticket: Ticket,
    now: datetime,
    tz: tzinfo,
    event: str,
    *,
    kind: PushKind = TICKET_ASSIGNED,
    **extra: Any,
) -> None:
    """Push `kind` about the ticket to its holder; `event` is the cause (its key part)."""
    if ticket.assignee_id is None:
        return
    # The phone the resident gave staff (on-behalf), else the one on their binding.
    phone = ticket.phone
    if phone is None and ticket.person_id is not None:
        from .places import approved_binding

        binding = approved_binding(db, ticket.person_id)
        if binding is not None:
            phone = binding.phone
    if ticket.supporters:
        extra["supporters"] = ticket.supporters
    enqueue(
        db,
        assigned_push(
            ticket_id=ticket.id,
            number=ticket.number,
            assignee_id=ticket.assignee_id,
            topic=_topic_name(ticket),
            place=ticket.place,
            spot=ticket.spot,
            phone=phone,
            text=ticket.text,
            due_at=ticket.due_at,
            tz=tz,
            event=f"{event}:{now.timestamp():.6f}",
            kind=kind,
            extra=extra or None,
            source=ticket.source,
            external_id=ticket.external_id,
        ),
        now,
    )


# -- the staff's moves --------------------------------------------------------------------


def accept(db: Session, ticket: Ticket, actor: Actor, now: datetime) -> None:
    """接单: the actor takes the ticket.

    A ticket waiting for someone else → NotYours (supervisors and admins may take it); one a
    colleague has accepted, also a moment ago in a concurrent transaction → Taken.
    """
    if ticket.assignee_id not in (None, actor.id) and not actor.overrides:
        if ticket.status in TRANSITIONS["accept"][0]:
            raise NotYours(ticket, _person(db, ticket.assignee_id))
    values: dict[str, Any] = {"assignee_id": actor.id}
    if ticket.accepted_at is None:
        values["accepted_at"] = now
    move(
        db,
        ticket,
        "accept",
        actor,
        now,
        values=values,
        holder_must_be=None if actor.overrides else actor.id,
    )
    tell_resident(db, ticket, TICKET_ACCEPTED, now)
    emit(db, "ticket.accepted", now, ticket=ticket)


def add_note(db: Session, ticket: Ticket, actor: Actor, text: str, now: datetime) -> None:
    """备注: a note or a visit on the timeline; an accepted ticket is then in progress."""
    if ticket.status not in OPEN_STATUSES:
        raise IllegalMove(ticket, "progress")
    _check_holder(db, ticket, actor)
    if ticket.status == "accepted":
        move(db, ticket, "progress", actor, now, note=text, event="note")
    else:
        record_event(db, ticket, "note", actor, now, before=ticket.status, note=text)
        ticket.updated_at = now


def resolve(
    db: Session,
    ticket: Ticket,
    actor: Actor,
    outcome: str,
    now: datetime,
    *,
    rating_days: float,
    followup_days: float,
) -> None:
    """办结: done, with the outcome; the resident is told it and asked to rate."""
    _check_holder(db, ticket, actor)
    on_time = ticket.due_at is not None and now <= ticket.due_at and ticket.level == 1
    move(
        db,
        ticket,
        "resolve",
        actor,
        now,
        note=outcome,
        values={
            "resolved_at": now,
            "outcome": outcome,
            "on_time": on_time,
            "rating_asked_at": now,
            "rating_reminded_at": None,
            "followup_due_at": now + timedelta(days=followup_days),
            "followup_asked_at": None,
        },
    )
    # resolved_at: the time a template's time field shows, not the (maybe later) send's.
    done = {"outcome": outcome, "resolved_at": now.isoformat()}
    tell_resident(db, ticket, TICKET_RESOLVED, now, topic=_topic_name(ticket), **done)
    tell_supporters(db, ticket, TICKET_SUPPORTED_RESOLVED, now, **done)
    emit(db, "ticket.resolved", now, ticket=ticket)
    if ticket.person_id is None:
        return  # nobody to ask by chat: staff record the answer (电话回访, onbehalf.py)
    from .states import RATE, push_state

    push_state(
        db,
        ticket.person_id,
        RATE,
        {"ticket": ticket.number},
        now=now,
        ttl=timedelta(days=2 * rating_days),
    )


def reject(db: Session, ticket: Ticket, actor: Actor, reason: str, now: datetime) -> None:
    """退回: not the committee's business; the resident is told why and where to go."""
    _check_holder(db, ticket, actor)
    move(db, ticket, "reject", actor, now, note=reason, values={"closed_at": now})
    order = {"source": ticket.source} if ticket.source else {}  # 12345: 退单
    tell_resident(db, ticket, TICKET_REJECTED, now, reason=reason, **order)
    tell_supporters(db, ticket, TICKET_SUPPORTED_REJECTED, now, reason=reason)
    emit(db, "ticket.rejected", now, ticket=ticket, reason=reason)  # + data.result: 退单/退回


def route_under_topic(
    db: Session,
    ticket: Ticket,
    actor: Actor,
    topic: Topic,
    now: datetime,
    tz: tzinfo,
    *,
    event: str,
    confirmed: bool = True,
) -> Person | None:
    """Put an open ticket under `topic` and route it exactly as one filed under it: the
    assignee (routing.py), the topic's deadline, a timeline entry and the push to the holder.

    Every way a topic is set on an open ticket comes here — the resident's answer to "which
    topic?", 转派 by chat or console, `tickets retopic` — so none leaves a ticket nobody sees.
    A new holder gets the ticket as new (they accept it afresh) and a push; when the route
    keeps the holder, their work goes on: the status stays and nobody is pushed again. The
    deadline follows the topic only when the topic changes (a relabel moves no deadline).
    Returns the holder (None: the triage queue, which the sweep watches).
    """
    if ticket.status not in OPEN_STATUSES:
        raise IllegalMove(ticket, "reassign")
    if not enabled_in(db, topic, ticket.community_id):
        raise SwitchedOff(topic, ticket.community_id)
    routed = route_again(db, ticket, topic.id)
    before_topic, before_holder, before = _topic_name(ticket), ticket.assignee_id, ticket.status
    moved = routed.assignee_id != before_holder
    sla_hours = sla_in(db, topic, ticket.community_id)  # the community's deadline, if it set one
    if sla_hours and before_topic != topic.name:
        ticket.due_at = now + timedelta(hours=sla_hours)
        ticket.warned_at = None
    ticket.topic = topic
    ticket.topic_confirmed = confirmed
    ticket.updated_at = now
    if moved:
        ticket.assignee_id = routed.assignee_id
        ticket.assigned_reason = routed.reason
        ticket.status = "new"  # the new holder accepts it afresh
    note = f"{before_topic or '（未分类）'} → {topic.name}"
    record_event(db, ticket, event, actor, now, before=before, note=note)
    db.flush()
    if moved:
        push_assignee(db, ticket, now, tz, event)
    return _person(db, ticket.assignee_id)


def reassign_to_topic(
    db: Session, ticket: Ticket, actor: Actor, topic: Topic, now: datetime, tz: tzinfo
) -> Person | None:
    """转派 to another topic (department): re-routed; the resident is told."""
    if ticket.status not in OPEN_STATUSES:
        raise IllegalMove(ticket, "reassign")
    _check_holder(db, ticket, actor)
    holder = route_under_topic(db, ticket, actor, topic, now, tz, event="reassigned")
    tell_resident(db, ticket, TICKET_TRANSFERRED, now, topic=topic.name)
    return holder


def reassign_to_person(
    db: Session, ticket: Ticket, actor: Actor, person: Person, now: datetime, tz: tzinfo
) -> None:
    """转派 to a named staff member: they hold it now and must accept it."""
    if ticket.status not in OPEN_STATUSES:
        raise IllegalMove(ticket, "reassign")
    _check_holder(db, ticket, actor)
    before = ticket.status
    ticket.assignee_id = person.id
    ticket.assigned_reason = "reassigned"
    ticket.status = "new" if before in ("accepted", "in_progress") else before
    ticket.updated_at = now
    record_event(db, ticket, "reassigned", actor, now, before=before, note=f"→ {person.name or ''}")
    db.flush()
    push_assignee(db, ticket, now, tz, "reassigned")


# -- the sweeps' moves --------------------------------------------------------------------


def escalate(
    db: Session,
    ticket: Ticket,
    now: datetime,
    tz: tzinfo,
    *,
    ladder: tuple[str, ...],
    sla_hours: float,
) -> bool:
    """The deadline passed: up one level (to the least loaded person there). False when
    there is no level above with anyone on it."""
    for level in range(ticket.level + 1, len(ladder) + 1):
        holder = duty_at_level(db.connection(), level, ticket.community_id)
        if holder is None:
            continue
        previous = ticket.assignee_id
        move(
            db,
            ticket,
            "escalate",
            SYSTEM,
            now,
            note=f"逾期升级至{ladder[level - 1]}",
            values={
                "level": level,
                "assignee_id": holder,
                "assigned_reason": "escalated",
                "due_at": now + timedelta(hours=sla_hours),
                "warned_at": None,
            },
        )
        push_assignee(
            db,
            ticket,
            now,
            tz,
            "escalated",
            kind=TICKET_ESCALATED,
            level_name=ladder[level - 1],
        )
        if previous is not None and previous != holder:
            away = TICKET_ESCALATED_AWAY.push(
                previous,
                ticket=ticket.id,
                number=ticket.number,
                level_name=ladder[level - 1],
                level=level,
            )
            enqueue(db, away, now)
        return True
    return False


def open_tickets_for(
    db: Session, person_id: int, community_id: int | None = None, limit: int = 20
) -> list[Ticket]:
    """待办: the person's open tickets (of `community_id` only, when given), the nearest
    deadline first."""
    query = select(Ticket).where(Ticket.assignee_id == person_id, Ticket.status.in_(OPEN_STATUSES))
    if community_id is not None:
        query = query.where(Ticket.community_id == community_id)
    return list(
        db.scalars(query.order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id).limit(limit))
    )


__all__ = [
    "SYSTEM",
    "TRANSITIONS",
    "Actor",
    "IllegalMove",
    "NotYours",
    "Taken",
    "accept",
    "actor_for",
    "add_note",
    "escalate",
    "open_tickets_for",
    "reassign_to_person",
    "reassign_to_topic",
    "route_under_topic",
    "reject",
    "resolve",
]
