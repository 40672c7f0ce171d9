"""议事会: meetings that deliberate agenda items, who is invited, who comes, and the minutes.

A meeting is numbered `#M` in its own sequence (the `meeting_number` counter), belongs to a
community (or the street: None), has agenda items (`meeting_agenda`, with each item's summary
and outcome once the minutes are in) and invitees (`meeting_invite`, one row per person, with
their answer 参加 / 请假). Who is invited is fixed when the meeting is called, from its
`invite` spec (reps, all, grid:G, building:B, comma-separated as given), so a later change of
the representatives' list or of a household does not change who was invited.

Residents' representatives (议事代表) are a list the admins keep: one `representative` row per
person, in a community (or the street's).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import counters
from .agenda import AgendaItem
from .base import Base, UTCDateTime, fits_id
from .communities import Community

ATTEND, EXCUSED = "attend", "excused"  # 参加, 请假


class Meeting(Base):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    place: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), nullable=True)
    invite: Mapped[str] = mapped_column(String(200))  # the spec as given: "reps,building:3号楼"
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # 纪要: as written; attendees as the minutes name them (people from outside come too).
    minutes: Mapped[str | None] = mapped_column(Text, nullable=True)
    attendees: Mapped[str | None] = mapped_column(Text, nullable=True)
    minutes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    minutes_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MeetingAgenda(Base):
    """An agenda item on a meeting's agenda, with what the minutes say of it."""

    __tablename__ = "meeting_agenda"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), primary_key=True)
    agenda_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)  # e.g. 达成共识：…


class MeetingInvite(Base):
    """One invitee and their answer (None: not answered)."""

    __tablename__ = "meeting_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    answer: Mapped[str | None] = mapped_column(String(16), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # 请假 M 理由, as written

    __table_args__ = (UniqueConstraint("meeting_id", "person_id", name="uq_meeting_invite"),)


class Representative(Base):
    """议事代表: a resident the admins listed as a representative."""

    __tablename__ = "representative"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), nullable=True)
    added_by: Mapped[str] = mapped_column(String(64), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


def meeting_by_number(db: Session, number: int) -> Meeting | None:
    if not fits_id(number):
        return None
    return db.scalar(select(Meeting).where(Meeting.number == number))


def next_number(db: Session) -> int:
    return counters.bump(db, counters.MEETING_NUMBER)


def _count(db: Session, meeting_id: int, answer: str | None = None) -> int:
    query = select(MeetingInvite.id).where(MeetingInvite.meeting_id == meeting_id)
    if answer is not None:
        query = query.where(MeetingInvite.answer == answer)
    return len(list(db.scalars(query)))


def meeting_json(db: Session, meeting: Meeting, tz: tzinfo) -> dict[str, Any]:
    """The meeting as `meeting show --json` prints it (a contract: see the issue)."""
    agenda = db.scalars(
        select(AgendaItem.number)
        .join(MeetingAgenda, MeetingAgenda.agenda_id == AgendaItem.id)
        .where(MeetingAgenda.meeting_id == meeting.id)
        .order_by(MeetingAgenda.position, AgendaItem.number)
    )
    community = db.scalar(select(Community.name).where(Community.id == meeting.community_id))
    return {
        "number": meeting.number,
        "title": meeting.title,
        "at": meeting.at.astimezone(tz).isoformat(),
        "place": meeting.place,
        "agenda": list(agenda),
        "invited": _count(db, meeting.id),
        "attending": _count(db, meeting.id, ATTEND),
        "excused": _count(db, meeting.id, EXCUSED),
        "minutes": meeting.minutes,
        "attendees": meeting.attendees,
        "community": community,
        "invite": meeting.invite,
    }
