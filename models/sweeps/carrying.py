"""落实 and 评议 in time: late work is warned and goes up the ladder; the 回头看 is asked.

Like a ticket's deadline (tickets.py), on the same ladder (routing.duty_at_level): when an
item's `due_at` passes, the staff member answerable is warned (overdue level 1);
`escalate_after_hours` later its community's duty supervisor (level 2) is told, and as long
again later the street's (level 3). The owner stays answerable — the levels above are told,
to press for it (督办). Each step is recorded on the row (`overdue_level`) and on the
timeline, and its push is keyed by the level and the due date, so nothing is told twice and
a new due date (assigning again) starts the ladder afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..agenda import CARRYING_OUT, DONE, OVERDUE, AgendaItem, record
from ..agenda_ratings import ask_review
from ..audience import several_communities
from ..communities import HOME_ID
from ..outbox import enqueue
from ..people import Person
from ..pushes import AGENDA_ESCALATED, AGENDA_OVERDUE
from ..routing import duty_at_level
from ..staff import LEVEL_STREET
from .tickets import BATCH

# No community has this id: the ladder of a street-wide item is the street's own staff.
STREET_ONLY = 0


@dataclass(frozen=True)
class CarryingPolicy:
    """The `[deliberation]` numbers the sweep acts by, the ladder's names, the time zone."""

    tz: tzinfo
    ladder: tuple[str, ...]
    escalate_after_hours: float


def _ladder_community(db: Session, item: AgendaItem) -> int:
    if item.community_id is not None:
        return item.community_id
    return STREET_ONLY if several_communities(db) else HOME_ID


def _values(item: AgendaItem, policy: CarryingPolicy) -> dict[str, object]:
    assert item.due_at is not None
    due = item.due_at.astimezone(policy.tz).isoformat()
    return {"agenda": item.id, "number": item.number, "title": item.title, "due_at": due}


def _warn_owner(db: Session, item: AgendaItem, now: datetime, policy: CarryingPolicy) -> None:
    values = _values(item, policy)
    item.overdue_level = 1
    if item.owner_id is not None:
        event = f"overdue:1:{values['due_at']}"
        enqueue(db, AGENDA_OVERDUE.push(item.owner_id, **values, event=event), now)
    record(db, item, OVERDUE, now, text="已逾期，已提醒负责人")


def _escalate(
    db: Session, item: AgendaItem, level: int, now: datetime, policy: CarryingPolicy
) -> bool:
    """Tell the first one on duty from `level` up (not the owner); False: nobody there yet."""
    conn, community = db.connection(), _ladder_community(db, item)
    for step in range(level, LEVEL_STREET + 1):
        duty = duty_at_level(conn, step, community)
        if duty is None or duty == item.owner_id:
            continue
        name = ladder_name(policy, step)
        values = _values(item, policy)
        owner = db.get(Person, item.owner_id) if item.owner_id is not None else None
        extra = {"party": item.owner_party} if item.owner_party else {}
        push = AGENDA_ESCALATED.push(
            duty,
            **values,
            owner=(owner.name if owner is not None and owner.name else ""),
            level_name=name,
            event=f"overdue:{step}:{values['due_at']}",
            **extra,
        )
        enqueue(db, push, now)
        item.overdue_level = step
        record(db, item, OVERDUE, now, text=f"逾期升级至{name}")
        return True
    return False


def ladder_name(policy: CarryingPolicy, level: int) -> str:
    return policy.ladder[level - 1] if 0 < level <= len(policy.ladder) else str(level)


def watch_carrying(db: Session, now: datetime, policy: CarryingPolicy) -> str | None:
    """Warn, then escalate, items past their due date: one step per item per sweep (the
    highest levels first, so one sweep never takes an item two steps)."""
    after = timedelta(hours=policy.escalate_after_hours)
    warned = escalated = waiting = 0
    for level in range(LEVEL_STREET, 0, -1):
        late = db.scalars(
            select(AgendaItem)
            .where(
                AgendaItem.stage == CARRYING_OUT,
                AgendaItem.overdue_level == level - 1,
                AgendaItem.due_at <= now - after * (level - 1),
            )
            .order_by(AgendaItem.due_at)
            .limit(BATCH)
        ).all()
        for item in late:
            if level == 1:
                _warn_owner(db, item, now, policy)
                warned += 1
            elif _escalate(db, item, level, now, policy):
                escalated += 1
            else:
                waiting += 1  # kept unmarked: the first supervisor registered hears of it
    done = [f"{n} {what}" for n, what in [(warned, "warned"), (escalated, "escalated")] if n]
    if waiting:
        done.append(f"{waiting} overdue with nobody above to tell")
    return f"agenda items: {', '.join(done)}" if done else None


def ask_reviews(db: Session, now: datetime) -> str | None:
    """回头看: `review_days` after 完成, ask those who took part whether it held (once)."""
    due = db.scalars(
        select(AgendaItem)
        .where(
            AgendaItem.stage == DONE,
            AgendaItem.review_due_at <= now,
            AgendaItem.review_asked_at.is_(None),
        )
        .order_by(AgendaItem.review_due_at)
        .limit(BATCH)
    ).all()
    asked = sum(ask_review(db, item, now) for item in due)
    return f"{len(due)} agenda reviews asked of {asked} people" if due else None
