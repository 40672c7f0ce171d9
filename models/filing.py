"""Filing a ticket once intake has decided to: the number, the row, its first timeline entry
and the push to its holder. Runs for every ticket filed, inside the write transaction: the
statements run on the driver's cursor (see prepared.py), without the ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select
from sqlalchemy.orm import Session

from . import counters
from .api.webhooks import emit
from .outbox import enqueue
from .prepared import Prepared, connection_of
from .routing import Route
from .rules import Classification
from .tickets import Filed, Ticket, TicketEvent, assigned_push
from .topics import CommunityTopic, Topic

_T = cast(Table, Ticket.__table__)
_TOPIC = cast(Table, Topic.__table__)
_CT = cast(Table, CommunityTopic.__table__)
# The topic as the ticket's community has it: not switched off there, its deadline there. A
# community with no settings of its own (and None) joins nothing: the street's topic.
_HERE = _TOPIC.outerjoin(
    _CT, and_(_CT.c.topic_id == _TOPIC.c.id, _CT.c.community_id == bindparam("community_id"))
)
_ENABLED_TOPIC = Prepared(
    select(_TOPIC.c.id, func.coalesce(_CT.c.sla_hours, _TOPIC.c.sla_hours))
    .select_from(_HERE)
    .where(
        _TOPIC.c.name == bindparam("topic_name"),
        _TOPIC.c.enabled,
        or_(_CT.c.enabled.is_(None), _CT.c.enabled),
    )
)
_INSERT_KEYS = [
    "assignee_id",
    "assigned_reason",
    "grid_id",
    "place",
    "due_at",
    "level",
    "reopen_count",
    "supporters",
    "building_id",
    "number",
    "person_id",
    "text",
    "text_key",
    "topic_id",
    "score",
    "unsure",
    "topic_confirmed",
    "status",
    "created_at",
    "updated_at",
    "channel",
    "filed_by_id",
    "phone",
    "community_id",
    "source",
    "external_id",
    "spot",
    "spot_from",
    "topic_by",
]
_INSERT = Prepared(insert(_T).returning(_T.c.id), keys=_INSERT_KEYS)
_EVENT = Prepared(
    insert(cast(Table, TicketEvent.__table__)),
    keys=["ticket_id", "at", "actor_id", "action", "from_status", "to_status", "note"],
)


@dataclass(frozen=True)
class Origin:
    """How a ticket came in: its channel, the staff member who filed it for the resident (None:
    the resident wrote themself) and the phone the resident gave staff."""

    channel: str = "wechat"
    filed_by: int | None = None
    phone: str | None = None
    # A city platform's work order (channel "api"): the platform and its order number.
    source: str | None = None
    external_id: str | None = None


def enabled_topic(
    db: Session, name: str, community_id: int | None = None
) -> tuple[int, float] | None:
    """The id and deadline hours of the topic called `name`, if it is enabled (in
    `community_id`, with its deadline there, when given)."""
    params = {"topic_name": name, "community_id": community_id}
    found = _ENABLED_TOPIC.run(connection_of(db), params)
    return (int(found[0][0]), float(found[0][1])) if found else None


def file_ticket(
    db: Session,
    *,
    person_id: int | None,
    actor_id: int | None,
    text: str,
    key: str,
    verdict: Classification,
    topic: tuple[str | None, int | None],
    hours: float,
    routed: Route,
    now: datetime,
    tz: tzinfo,
    origin: Origin,
    due_at: datetime | None = None,
) -> Filed:
    """File a new ticket with the next number: under `topic` (its name and enabled id; no id:
    triage), held by `routed`, due in `hours` (or at `due_at`: a work order's own deadline),
    its first timeline entry by `actor_id` (who filed it), where it came from (`origin`), and
    the push to its holder."""
    conn = connection_of(db)
    topic_name, topic_id = topic
    number = counters.bump(db, counters.TICKET_NUMBER)
    if due_at is None:
        due_at = now + timedelta(hours=float(hours))
    place = routed.place
    values: dict[str, Any] = {
        "assignee_id": routed.assignee_id,
        "assigned_reason": routed.reason,
        "grid_id": place.grid_id if place else None,
        "place": (place.label or None) if place else None,
        "due_at": due_at,
        "level": 1,
        "reopen_count": 0,
        "supporters": 0,
        "building_id": place.building_id if place else None,
        "number": number,
        "person_id": person_id,
        "text": text,
        "text_key": key,
        "topic_id": topic_id,
        "score": verdict.score if verdict.topic else None,
        "unsure": verdict.unsure,
        "topic_confirmed": False,
        "status": "new",
        "created_at": now,
        "updated_at": now,
        "channel": origin.channel,
        "filed_by_id": origin.filed_by,
        "phone": origin.phone,
        "community_id": routed.community_id,
        "source": origin.source,
        "external_id": origin.external_id,
        "spot": place.spot if place else None,
        "spot_from": place.spot_from if place else None,
        "topic_by": verdict.by if topic_id is not None else None,
    }
    [(ticket_id,)] = _INSERT.run(conn, values)
    _EVENT.run(
        conn,
        {
            "ticket_id": ticket_id,
            "at": now,
            "actor_id": actor_id,
            "action": "filed",
            "from_status": None,
            "to_status": "new",
            "note": f"assigned: {routed.reason}",
        },
    )
    name = topic_name if topic_id is not None else None
    if routed.assignee_id is not None:
        push = assigned_push(
            ticket_id=ticket_id,
            number=number,
            assignee_id=routed.assignee_id,
            topic=name,
            place=(place.label or None) if place else None,
            spot=place.spot if place else None,
            phone=place.phone if place else None,
            text=text,
            due_at=due_at,
            tz=tz,
            event="filed",
            source=origin.source,
            external_id=origin.external_id,
        )
        enqueue(db, push, now)
    emit(db, "ticket.created", now, ticket=ticket_id)  # one query when nobody subscribed
    return Filed(ticket_id, number, name, routed.assignee_id)
