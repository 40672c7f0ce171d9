"""Tickets (诉求): what a resident asked for, numbered, under a topic or in triage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    literal_column,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship

from .base import Base, UTCDateTime, fits_id
from .communities import HOME_ID, Community
from .community_topics import sla_in
from .outbox import Push
from .prepared import Prepared, connection_of
from .pushes import KINDS, TICKET_ASSIGNED, PushKind
from .topics import Topic

OPEN_STATUSES = ("new", "accepted", "in_progress", "reopened", "escalated")


class Ticket(Base):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    # The resident it is for; None when staff filed it for someone the account does not know
    # (a phone call, a walk-in): then `phone` is how staff reach them (电话回访).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    # How it came in (models/intake.py CHANNELS): the resident's own chat, or staff filing
    # on their behalf after a phone call, a visit or a patrol; who filed it (staff, None
    # when the resident wrote themself) and the phone the resident gave.
    # Only a server default: the prepared INSERT of filing (below) names its columns, and a
    # Python-side default would put the column in it without a value.
    channel: Mapped[str] = mapped_column(String(16), server_default="wechat")
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The community it belongs to (models/communities.py): the place's, else the resident's.
    # A server default like `channel`: the first community, for a one-community deployment.
    # Indexed with created_at (ix_ticket_community_created, below), which serves "this
    # community's tickets" as well as a single-column index would.
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id"), server_default=str(HOME_ID)
    )
    # The normalised text, to recognise the same request sent twice.
    text_key: Mapped[str] = mapped_column(String(64))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    unsure: Mapped[bool] = mapped_column(Boolean, default=False)
    # A person (staff or admin) has set or kept the topic: the ticket is labeled data.
    topic_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="new")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # 办 handle: who has it, why them, and where the resident lives (at filing time).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    assigned_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), nullable=True)
    place: Mapped[str | None] = mapped_column(String(64), nullable=True)  # "16-2-501"
    # 督 supervise: the deadline, the warning before it, the escalation level (staff.py).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the duty supervisor was told that nobody holds the ticket ([tickets] triage_hours).
    triage_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Whether it was done by the deadline (set when resolved), for the on-time rate.
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # 评 evaluate: 1 满意, 2 基本满意, 3 不满意; the question, its reminder, the follow-up.
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rating_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rating_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    followup_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    followup_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # 附议: other residents who reported the same problem and were linked to this ticket
    # (TicketSupporter), and the building it is about (the resident's, when bound), where
    # such near-duplicates are looked for.
    supporters: Mapped[int] = mapped_column(Integer, default=0)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"), nullable=True)
    # Where the problem is, when the report says so ("3号楼", "3号楼2单元501", "东门") or a
    # WeChat location message showed it (models/landmarks.py), as the committee's places name
    # it; `spot_from` says which ("text", "location"). Routing then uses that place's grid
    # and `building_id` is that building; `place` stays the resident's home. None: the
    # report named no place (routed by home, as before).
    spot: Mapped[str | None] = mapped_column(String(64), nullable=True)
    spot_from: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Who set the topic at filing (models/rules.py Classification.by): "rules", "model", or
    # None (unsure: triage, the resident was asked).
    topic_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # A city platform's work order (models/api/orders.py): the platform ("12345", "grid", as
    # its key sent it) and its own order number; the pair is unique, so an order sent twice
    # is one ticket. None for everything else.
    source: Mapped[str | None] = mapped_column(String(32), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    topic: Mapped[Topic | None] = relationship()
    community: Mapped[Community] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="ticket", order_by="Attachment.id"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id"
    )

    # Every index is a page written by each filing's commit: one composite index serves
    # "this person's tickets" and "the same text again", and the follow-up index holds only
    # the tickets that have one.
    __table_args__ = (
        # With the status: a person's open tickets are counted from the index alone.
        Index("ix_ticket_person_text", "person_id", "text_key", "status"),
        # A holder's open tickets (待办, routing's load) are counted from the index alone.
        Index("ix_ticket_assignee_status", "assignee_id", "status"),
        # The console's dashboard and lists: tickets by day, and by state by day.
        Index("ix_ticket_created_at", "created_at"),
        Index("ix_ticket_status_created", "status", "created_at"),
        Index("uq_ticket_source_external", "source", "external_id", unique=True),
        # A community's tickets, and its 工作台 (the street dashboard's drill-down): its month
        # of tickets, and today's, without visiting the other communities' rows (bench/README.md,
        # "Issue #16"). In place of an index on community_id alone: no extra write per filing.
        Index("ix_ticket_community_created", "community_id", "created_at"),
        # Tickets resolved per day (the dashboard's trend). Partial: a new ticket has no
        # resolved_at, so filing writes nothing to it.
        Index(
            "ix_ticket_resolved_at",
            "resolved_at",
            sqlite_where=sql_text("resolved_at IS NOT NULL"),
            postgresql_where=sql_text("resolved_at IS NOT NULL"),
        ),
        # Near-duplicates from the same building (flood control). Partial: only a bound
        # resident's ticket has a building, so other filings write nothing to it.
        Index(
            "ix_ticket_building_created",
            "building_id",
            "created_at",
            sqlite_where=sql_text("building_id IS NOT NULL"),
            postgresql_where=sql_text("building_id IS NOT NULL"),
        ),
        Index(
            "ix_ticket_followup_due_at",
            "followup_due_at",
            sqlite_where=sql_text("followup_due_at IS NOT NULL"),
            postgresql_where=sql_text("followup_due_at IS NOT NULL"),
        ),
    )


class TicketEvent(Base):
    """One change in a ticket's life: its timeline."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(16))  # filed, assigned, accepted, note, ...
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    ticket: Mapped[Ticket] = relationship(back_populates="events")


class Attachment(Base):
    """An image, location, voice or video sent shortly after a ticket, joined to it.

    A photo, voice or video is only a WeChat media id, which WeChat deletes after about 3
    days: the attachment row is also the job that keeps a copy (models/media.py), so the job
    exists exactly when the attachment was committed, and goes when the attachment goes.
    """

    __tablename__ = "ticket_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)  # JSON: pic_url, media_id, label, ...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The copy of the media (None: nothing to download, e.g. a location); see models/media.py.
    media_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    media_file: Mapped[str | None] = mapped_column(String(64), nullable=True)  # in [media] dir
    media_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    media_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    media_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Pending: when the next try is due; fetching: when the worker's lease ends.
    media_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    media_claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    media_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    ticket: Mapped[Ticket] = relationship(back_populates="attachments")

    __table_args__ = (
        # The worker's question: which downloads are due? Only those waiting are in it.
        Index(
            "ix_ticket_attachment_media_due",
            "media_due_at",
            sqlite_where=sql_text("media_status IN ('pending', 'fetching')"),
            postgresql_where=sql_text("media_status IN ('pending', 'fetching')"),
        ),
    )


@dataclass(frozen=True)
class Filed:
    """A ticket as the chat needs it right after filing: its number and topic."""

    id: int
    number: int
    topic: str | None
    assignee_id: int | None = None


# Intake runs for every request a resident sends: these statements run on the driver's
# cursor inside the message's transaction (see prepared.py), without the ORM.
_T = cast(Table, Ticket.__table__)
_TOPIC = cast(Table, Topic.__table__)
WITH_TOPIC = _T.outerjoin(_TOPIC, _T.c.topic_id == _TOPIC.c.id)
# Constants written into the SQL: prepared statements cannot expand an IN list.
IS_OPEN = _T.c.status.in_([literal_column(f"'{status}'") for status in OPEN_STATUSES])
# The person's ticket with the same text, if recent: intake folds it into its first question.
SAME_TEXT = (
    select(_T.c.id, _T.c.number, _TOPIC.c.name)
    .select_from(WITH_TOPIC)
    .where(
        _T.c.person_id == bindparam("person_id"),
        _T.c.text_key == bindparam("text_key"),
        _T.c.created_at >= bindparam("since"),
    )
    .order_by(_T.c.id.desc())
    .limit(1)
)
_SAME_TEXT = Prepared(SAME_TEXT)


def same_text_ticket(db: Session, person_id: int, text_key: str, since: datetime) -> Filed | None:
    """The person's ticket with the same normalised text filed after `since`, if any."""
    rows = _SAME_TEXT.run(
        connection_of(db), {"person_id": person_id, "text_key": text_key, "since": since}
    )
    return Filed(*rows[0]) if rows else None


def assigned_push(
    *,
    ticket_id: int,
    number: int,
    assignee_id: int,
    topic: str | None,
    place: str | None,
    phone: str | None,
    text: str,
    due_at: datetime | None,
    tz: tzinfo,
    event: str,
    kind: str | PushKind = TICKET_ASSIGNED,
    extra: dict[str, Any] | None = None,
    source: str | None = None,
    external_id: str | None = None,
    spot: str | None = None,
) -> Push:
    """The push that tells staff a ticket is now theirs (filed, reassigned, escalated), or
    any push of a ticket to its holder (`kind`, one of models/pushes.py's staff kinds).
    A platform's work order (`source`, `external_id`) carries them, to be shown as one."""
    from .places import mask_phone

    declared = KINDS[kind] if isinstance(kind, str) else kind
    if source:
        extra = {**(extra or {}), **order_values(source, external_id)}
    if spot:
        extra = {**(extra or {}), "spot": spot}
    return declared.push(
        assignee_id,
        ticket=ticket_id,
        number=number,
        topic=topic,
        place=place,
        phone=mask_phone(phone),
        text=text,
        due_at=due_at.astimezone(tz).isoformat() if due_at else None,
        event=event,
        **(extra or {}),
    )


def order_values(source: str | None, external_id: str | None) -> dict[str, Any]:
    """A work order's platform and number for a push's payload; nothing for other tickets
    (their payloads, and so rows already queued, stay as they were)."""
    if not source:
        return {}
    return {"source": source, "external_id": external_id}


# Built once (with bound parameters): this runs for every attachment a resident sends.
_LATEST = (
    select(Ticket)
    .where(Ticket.person_id == bindparam("person_id"), Ticket.created_at >= bindparam("since"))
    .order_by(Ticket.id.desc())
    .limit(1)
)


def latest_ticket(db: Session, person_id: int, since: datetime) -> Ticket | None:
    """The person's newest ticket filed after `since` (attachments join it)."""
    return db.scalars(_LATEST, {"person_id": person_id, "since": since}).first()


def attach(db: Session, ticket: Ticket, kind: str, data: dict[str, Any], now: datetime) -> None:
    """Join the message to `ticket`; a WeChat media id is queued for download at once."""
    has_media = bool(data.get("mediaid"))
    db.add(
        Attachment(
            ticket=ticket,
            kind=kind,
            data=json.dumps(data, ensure_ascii=False),
            created_at=now,
            media_status="pending" if has_media else None,
            media_attempts=0,
            media_due_at=now if has_media else None,
        )
    )
    ticket.updated_at = now


def set_topic(
    db: Session, ticket: Ticket, topic: Topic | None, *, confirmed: bool, now: datetime
) -> None:
    """Put the ticket under `topic` (None: triage); `confirmed` when a person decided it."""
    ticket.topic = topic
    ticket.topic_confirmed = confirmed and topic is not None
    ticket.updated_at = now


def deadline_hours(ticket: Ticket, triage_hours: float) -> float:
    """How long the ticket's holder has when it is (re)opened: its topic's deadline, else the
    triage one ([tickets] triage_sla_hours)."""
    if ticket.topic is not None:
        db = object_session(ticket)
        hours = sla_in(db, ticket.topic, ticket.community_id) if db else ticket.topic.sla_hours
        if hours:
            return float(hours)
    return float(triage_hours)


def ticket_by_number(db: Session, number: int) -> Ticket | None:
    if not fits_id(number):
        return None
    return db.scalars(select(Ticket).where(Ticket.number == number)).one_or_none()


def open_tickets_of(db: Session, person_id: int, limit: int = 10) -> list[Ticket]:
    return list(
        db.scalars(
            select(Ticket)
            .where(Ticket.person_id == person_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.id.desc())
            .limit(limit)
        )
    )


def confirmed_tickets(db: Session) -> list[Ticket]:
    return list(
        db.scalars(
            select(Ticket)
            .where(Ticket.topic_confirmed, Ticket.topic_id.is_not(None))
            .order_by(Ticket.id)
        )
    )
