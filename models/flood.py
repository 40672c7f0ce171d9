"""Flood control: 附议 (me-too) instead of a second ticket for the same problem.

When a resident reports what a neighbour in the same building reported shortly before, the
report is linked to the first ticket as a supporter: the ticket counts its supporters (staff
see the count), and each supporter is told the outcome with the author (lifecycle.py).
The report path (handlers/flood.py) decides whether two texts are the same problem; this
module reads the candidates and records the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, ForeignKey, Table, UniqueConstraint, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .prepared import Prepared
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
    conn: Connection, *, building_id: int, person_id: int, since: datetime
) -> list[Nearby]:
    """Open tickets about `building_id` filed after `since` by others, newest first (one
    query, on the partial index ix_ticket_building_created)."""
    params = {"building_id": building_id, "person_id": person_id, "since": since}
    return [Nearby(*row) for row in _NEARBY.run(conn, params)]


def support(conn: Connection, ticket_id: int, person_id: int, now: datetime) -> bool:
    """Link the person to the ticket as a supporter; False if they already were one."""
    params = {"ticket_id": ticket_id, "person_id": person_id, "now": now}
    if not _LINKS[conn.dialect.name].run(conn, params):
        return False
    _COUNT_ONE_MORE.run(conn, params)
    return True


def supporter_ids(db: Session, ticket_id: int) -> list[int]:
    """The people who seconded the ticket, in the order they did."""
    return list(
        db.scalars(
            select(TicketSupporter.person_id)
            .where(TicketSupporter.ticket_id == ticket_id)
            .order_by(TicketSupporter.id)
        )
    )
