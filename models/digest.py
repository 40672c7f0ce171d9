"""The staff morning digest (每日待办): one push per staff member with open tickets."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .outbox import enqueue
from .people import Person
from .pushes import STAFF_DIGEST
from .tickets import OPEN_STATUSES, Ticket
from .topics import Topic

DIGEST_KIND = STAFF_DIGEST.name
DIGEST_TICKETS = 10  # listed in one push; the counts cover them all

Entry = tuple[int, str | None, datetime | None, str | None]  # number, topic, due_at, source


def _listing(tickets: list[Entry], now: datetime) -> list[dict[str, Any]]:
    # Oldest deadline first; tickets without a deadline last, then by number.
    ordered = sorted(tickets, key=lambda t: (t[2] is None, t[2] or now, t[0]))
    return [
        {
            "number": number,
            "topic": topic,
            "due_at": due.isoformat() if due is not None else None,
            "overdue": due is not None and due < now,
            # A platform's work order is marked (【12345工单】); other items are as before.
            **({"source": source} if source else {}),
        }
        for number, topic, due, source in ordered[:DIGEST_TICKETS]
    ]


def queue_morning_digest(db: Session, now: datetime, tz: tzinfo) -> int:
    """Queue today's digest for every staff member with open tickets; returns how many.

    The dedupe key names the local date and the person, so a second run on the same day
    queues nothing new.
    """
    date = now.astimezone(tz).date().isoformat()
    rows = db.execute(
        select(Ticket.assignee_id, Ticket.number, Topic.name, Ticket.due_at, Ticket.source)
        .join(Person, Person.id == Ticket.assignee_id)
        .outerjoin(Topic, Topic.id == Ticket.topic_id)
        .where(Person.staff_level >= 1, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.assignee_id)
    )
    open_by_person: defaultdict[int, list[Entry]] = defaultdict(list)
    for person_id, number, topic, due, source in rows:
        if person_id is not None:  # always, by the join; for the type checker
            open_by_person[person_id].append((number, topic, due, source))
    queued = 0
    for person_id, tickets in open_by_person.items():
        payload = {
            "date": date,
            "open": len(tickets),
            "overdue": sum(1 for _, _, due, _ in tickets if due is not None and due < now),
            "tickets": _listing(tickets, now),
        }
        push = STAFF_DIGEST.push(person_id, **payload)
        if enqueue(db, push, now) is not None:
            queued += 1
    return queued
