"""Flood control: 附议 (me-too) instead of a second ticket for the same problem.

When a resident reports what a neighbour in the same building reported shortly before, the
report is linked to the first ticket as a supporter: the ticket counts its supporters (staff
see the count), and each supporter is told the outcome with the author (lifecycle.py).
Intake (intake.py) asks `same_problem` about the candidates and records the link.

Two reports are the same problem when they have the same normalised text (text_key), or the
same topic and nearly the same words: the Jaccard similarity of the two texts' character
bigrams (after folding, without punctuation) is at least SIMILAR. Bigrams rather than jieba
tokens: they need no segmenting of the candidates inside the write transaction (SQLite's
single writer), and two short reports of one problem are often cut into different words by
jieba (楼道灯 / 楼道的灯) while sharing most bigrams. The topic must match too, so two
different problems in similar words (电梯坏了 / 路灯坏了: 0.4) stay apart; one inserted word
in a twenty-character report still scores above 0.8.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ForeignKey, Table, UniqueConstraint, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from words import fold

from .base import Base, UTCDateTime
from .prepared import Prepared, connection_of
from .tickets import IS_OPEN, WITH_TOPIC, Ticket
from .topics import Topic


class TicketSupporter(Base):
    """A resident who reported the same problem as a ticket's author (附议)."""

    __tablename__ = "ticket_supporter"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("ticket_id", "person_id", name="uq_ticket_supporter"),)


@dataclass(frozen=True)
class Nearby:
    """Another resident's open ticket about the same building: maybe the same problem."""

    id: int
    number: int
    topic: str | None
    text_key: str
    text: str


_T = cast(Table, Ticket.__table__)
_TOPIC = cast(Table, Topic.__table__)
_S = cast(Table, TicketSupporter.__table__)
NEARBY_LIMIT = 20  # the newest candidates compared; older ones are rarely the same problem
_NEARBY = Prepared(
    select(_T.c.id, _T.c.number, _TOPIC.c.name, _T.c.text_key, _T.c.text)
    .select_from(WITH_TOPIC)
    .where(
        _T.c.building_id == bindparam("building_id"),
        _T.c.created_at >= bindparam("since"),
        _T.c.person_id != bindparam("person_id"),
        IS_OPEN,
    )
    .order_by(_T.c.id.desc())
    .limit(NEARBY_LIMIT)
)


def _link(dialect: Any) -> Prepared:
    return Prepared(
        dialect.insert(_S)
        .values(
            ticket_id=bindparam("ticket_id"),
            person_id=bindparam("person_id"),
            created_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=[_S.c.ticket_id, _S.c.person_id])
        .returning(_S.c.id)
    )


_LINKS = {"sqlite": _link(sqlite), "postgresql": _link(postgresql)}
_COUNT_ONE_MORE = Prepared(
    update(_T)
    .where(_T.c.id == bindparam("ticket_id"))
    .values(supporters=_T.c.supporters + 1, updated_at=bindparam("now"))
)


def nearby_tickets(
    db: Session, *, building_id: int, person_id: int, since: datetime
) -> list[Nearby]:
    """Open tickets about `building_id` filed after `since` by others, newest first (one
    query, on the partial index ix_ticket_building_created)."""
    params = {"building_id": building_id, "person_id": person_id, "since": since}
    return [Nearby(*row) for row in _NEARBY.run(connection_of(db), params)]


def support(db: Session, ticket_id: int, person_id: int, now: datetime) -> bool:
    """Link the person to the ticket as a supporter; False if they already were one."""
    conn = connection_of(db)
    params = {"ticket_id": ticket_id, "person_id": person_id, "now": now}
    if not _LINKS[conn.dialect.name].run(conn, params):
        return False
    _COUNT_ONE_MORE.run(conn, params)
    return True


SIMILAR = 0.7
_NOT_WORD = re.compile(r"[\W_]+")


def same_problem(
    text: str, key: str, candidates: list[Nearby], topic_of: Callable[[], str | None]
) -> Nearby | None:
    """The candidate that is the same problem as `text` (see above), or None.

    `topic_of` gives the text's topic (None: unsure); it is asked only when no candidate has
    the same text, and only if there are candidates at all."""
    if not candidates:
        return None
    for ticket in candidates:
        if ticket.text_key == key:
            return ticket
    topic = topic_of()
    if topic is None:
        return None
    words = bigrams(text)
    for ticket in candidates:
        if ticket.topic == topic and similarity(words, bigrams(ticket.text)) >= SIMILAR:
            return ticket
    return None


def bigrams(text: str) -> frozenset[str]:
    """The text's adjacent character pairs, folded and without punctuation."""
    letters = _NOT_WORD.sub("", fold(text))
    if len(letters) < 2:
        return frozenset({letters})
    return frozenset(letters[i : i + 2] for i in range(len(letters) - 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard: shared pairs over all pairs (1.0 for the same set)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def supporter_ids(db: Session, ticket_id: int) -> list[int]:
    """The people who seconded the ticket, in the order they did."""
    return list(
        db.scalars(
            select(TicketSupporter.person_id)
            .where(TicketSupporter.ticket_id == ticket_id)
            .order_by(TicketSupporter.id)
        )
    )
