"""公示 in time: when an item's objection period ends.

No objections: the decision stands — confirmed by the sweep (confirmed_at, a CONFIRMED event
saying so), as an admin would. Objections: the decision waits for an admin, who is reminded
once (objections_reminded_at) to confirm or withdraw it; the sweep never decides that for them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..agenda import CONFIRMED, PUBLICISED, AgendaItem, record
from ..outbox import enqueue
from ..publicity import admins_of, objection_count
from ..pushes import PUBLICITY_OBJECTIONS_DUE

BATCH = 100
# The timeline's words for a decision that stood unopposed (the console shows event texts).
STOOD = "公示期满无异议，决定生效"


def sweep_publicity(db: Session, now: datetime) -> str | None:
    """Act on items whose period ended; a summary for the log, or None when nothing was due."""
    due = db.scalars(
        select(AgendaItem)
        .where(
            AgendaItem.stage == PUBLICISED,
            AgendaItem.confirmed_at.is_(None),
            AgendaItem.objections_reminded_at.is_(None),
            AgendaItem.objections_until <= now,
        )
        .order_by(AgendaItem.objections_until, AgendaItem.id)
        .limit(BATCH)
    ).all()
    stood = reminded = 0
    for item in due:
        count = objection_count(db, item.id)
        if count == 0:
            item.confirmed_at = now
            record(db, item, CONFIRMED, now, text=STOOD)
            stood += 1
            continue
        item.objections_reminded_at = now
        for admin in admins_of(db, item.community_id):
            push = PUBLICITY_OBJECTIONS_DUE.push(
                admin, agenda=item.id, number=item.number, title=item.title, objections=count
            )
            enqueue(db, push, now)
        reminded += 1
    if not due:
        return None
    return f"publicity: {stood} decisions stood, {reminded} waiting on objections"
