"""An agenda item as `agenda show --json` prints it (a contract: see the issue), and the
console and the annual report read it."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .agenda import (
    PROGRESS,
    AgendaItem,
    AgendaObjection,
    backing_count,
    public_url,
    rating_counts,
    timeline,
)
from .agenda_ratings import review_counts
from .communities import Community
from .meetings import Meeting, MeetingAgenda
from .people import Person
from .polls import Poll


def _local(at: datetime | None, tz: tzinfo) -> str | None:
    return at.astimezone(tz).isoformat() if at is not None else None


def agenda_json(db: Session, item: AgendaItem, tz: tzinfo, base_url: str = "") -> dict[str, Any]:
    """The item as `agenda show --json` prints it (a contract: see the issue)."""
    meetings = db.scalars(
        select(Meeting.number)
        .join(MeetingAgenda, MeetingAgenda.meeting_id == Meeting.id)
        .where(MeetingAgenda.agenda_id == item.id)
        .order_by(Meeting.number)
    )
    polls = db.scalars(select(Poll.number).where(Poll.agenda_id == item.id).order_by(Poll.number))
    objections = db.scalar(
        select(func.count(AgendaObjection.id)).where(AgendaObjection.agenda_id == item.id)
    )
    owner_name = db.scalar(select(Person.name).where(Person.id == item.owner_id))
    community = db.scalar(select(Community.name).where(Community.id == item.community_id))
    progress = [
        {"at": _local(e.at, tz), "text": e.text}
        for e in timeline(db, item.id)
        if e.kind == PROGRESS
    ]
    return {
        "number": item.number,
        "title": item.title,
        "stage": item.stage,
        "backing": backing_count(db, item.id),
        "backing_threshold": item.backing_needed,
        "meetings": list(meetings),
        "polls": list(polls),
        "decision": item.decision,
        "public_url": public_url(item, base_url),
        "objections": int(objections or 0),
        "owner": item.owner_party or owner_name or None,
        "owner_staff": owner_name or None,
        "due_at": _local(item.due_at, tz),
        "progress": progress,
        "ratings": rating_counts(db, item.id),
        "result": item.result,
        "community": community,  # None: the street's
        "text": item.body,
        "created_at": _local(item.created_at, tz),
        "review": review_counts(db, item.id),  # 回头看: did the decision hold?
    }
