"""评议 and 回头看: how the people who took part judge a finished 议题, and whether it held.

On 完成 everyone who took part (proposer, backers, voters, attendees — still residents in the
item's scope) is pushed the result with the question 1 满意 / 2 基本满意 / 3 不满意, and a
conversation state waits for the answer. `review_days` later the sweep asks the same people
once whether the decision held: 1 仍在落实、效果良好 / 2 没有坚持、出现反复, with what they add
kept as a note. Both answers live on the person's one `AgendaRating` row for the item (a later
answer replaces the earlier): linked to the 议题, never a ticket.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .agenda import REVIEW, AgendaError, AgendaItem, AgendaRating, record
from .agenda_people import participants
from .outbox import enqueue
from .pushes import AGENDA_RATE, AGENDA_REVIEW
from .states import AGENDA_RATE as RATE_STATE
from .states import AGENDA_REVIEW as REVIEW_STATE
from .states import push_state

RATINGS = (1, 2, 3)  # 1 满意 2 基本满意 3 不满意, as tickets are rated
RATING_ANSWER_DAYS = 7  # how long a bare digit answers the 评议 question
REVIEW_ANSWER_DAYS = 14  # … and the 回头看's
NOTE_MAX = 500  # what a resident adds to the 回头看's answer


def raters(db: Session, item: AgendaItem) -> list[int]:
    """Who is asked, and may answer: those who took part and still live in the item's scope."""
    return participants(db, item, in_scope=True)


def _ask(db: Session, item: AgendaItem, now: datetime, review: bool) -> int:
    kind, state = (AGENDA_REVIEW, REVIEW_STATE) if review else (AGENDA_RATE, RATE_STATE)
    ttl = timedelta(days=REVIEW_ANSWER_DAYS if review else RATING_ANSWER_DAYS)
    people = raters(db, item)
    for person in people:
        push = kind.push(
            person, agenda=item.id, number=item.number, title=item.title, result=item.result or ""
        )
        enqueue(db, push, now)
        push_state(db, person, state, {"agenda": item.number}, now=now, ttl=ttl)
    return len(people)


def ask_ratings(db: Session, item: AgendaItem, now: datetime) -> int:
    """评议: push the result and the question to everyone who took part; how many."""
    item.rating_asked_at = now
    return _ask(db, item, now, review=False)


def ask_review(db: Session, item: AgendaItem, now: datetime) -> int:
    """回头看: ask the same people whether the decision held (once); how many."""
    item.review_asked_at = now
    asked = _ask(db, item, now, review=True)
    record(db, item, REVIEW, now, text=f"已询问{asked}人")
    return asked


def _row(db: Session, item: AgendaItem, person_id: int) -> AgendaRating:
    """The person's one row for the item, made when missing (a race on the unique pair
    finds the row the other transaction made)."""
    query = select(AgendaRating).where(
        AgendaRating.agenda_id == item.id, AgendaRating.person_id == person_id
    )
    found = db.scalar(query)
    if found is not None:
        return found
    try:
        with db.begin_nested():
            row = AgendaRating(agenda_id=item.id, person_id=person_id)
            db.add(row)
    except IntegrityError:
        return db.scalars(query).one()
    return row


def rate(db: Session, item: AgendaItem, person_id: int, score: int, now: datetime) -> bool:
    """评议: the person's rating of the finished item; True when it replaced an earlier one.
    AgendaError("stage") before 完成, ("not_participant") for someone not asked."""
    if item.done_at is None:
        raise AgendaError("stage", stage=item.stage, number=item.number)
    if score not in RATINGS:
        raise AgendaError("rating", score=score)
    if person_id not in raters(db, item):
        raise AgendaError("not_participant", number=item.number)
    row = _row(db, item, person_id)
    replaced = row.rating is not None
    row.rating, row.rated_at = score, now
    db.flush()
    return replaced


def answer_review(
    db: Session, item: AgendaItem, person_id: int, held: bool, note: str, now: datetime
) -> None:
    """回头看: whether the decision held, and what the person adds (as written, if anything)."""
    if item.review_asked_at is None:
        raise AgendaError("stage", stage=item.stage, number=item.number)
    if person_id not in raters(db, item):
        raise AgendaError("not_participant", number=item.number)
    row = _row(db, item, person_id)
    note = note.strip()[:NOTE_MAX]
    row.held, row.reviewed_at = held, now
    row.review_note = note or None
    db.flush()


def review_counts(db: Session, agenda_id: int) -> dict[str, int]:
    """回头看's answers: {"held": n, "not_held": n}."""
    rows = db.execute(
        select(AgendaRating.held, func.count(AgendaRating.id))
        .where(AgendaRating.agenda_id == agenda_id, AgendaRating.held.is_not(None))
        .group_by(AgendaRating.held)
    ).all()
    counts = {"held": 0, "not_held": 0}
    for held, count in rows:
        counts["held" if held else "not_held"] += int(count)
    return counts


def review_notes(db: Session, agenda_id: int) -> list[tuple[bool, str, datetime | None]]:
    """What residents added to their 回头看 answers, oldest first (held, note, when)."""
    rows = db.execute(
        select(AgendaRating.held, AgendaRating.review_note, AgendaRating.reviewed_at)
        .where(AgendaRating.agenda_id == agenda_id, AgendaRating.review_note.is_not(None))
        .order_by(AgendaRating.reviewed_at, AgendaRating.id)
    ).all()
    return [(bool(held), str(note), at) for held, note, at in rows]
