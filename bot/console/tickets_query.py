"""What the 诉求 pages read: one page of the filtered list, and one ticket with its timeline.

The list is one SELECT of the columns it shows (joined to topic and assignee, the text cut
in SQL) plus one COUNT, both on the indexes of migration 0007; the ticket page is a handful
of queries whatever the length of its timeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased, selectinload

from models import Person, Role, Ticket
from models.communities import HOME_ID, STREET, Scope
from models.kpi_sources import in_group
from models.places import Grid, approved_binding, mask_openid, mask_phone
from models.scoping import scoped
from models.tickets import OPEN_STATUSES, Attachment
from models.topics import Topic

from .media import Shown
from .media import shown as shown_media

AnySelect = TypeVar("AnySelect", bound="Select[*tuple[Any, ...]]")
PAGE_SIZE = 50
EXCERPT_CHARS = 60
NONE = "none"  # topic=none: not yet classified; assignee=none: nobody holds it
OPEN = "open"  # status=open: any of the open states (not yet resolved, rejected or closed)


@dataclass(frozen=True)
class Filters:
    """The list's filters, as the query string gives them (already validated)."""

    status: str | None = None
    topic: int | str | None = None  # an id, or NONE
    grid: int | None = None
    assignee: int | str | None = None  # an id, or NONE
    overdue: bool = False
    q: str | None = None  # a number (#12 or 12) or words in the text
    channel: str | None = None  # how it came in: wechat, or phone / visit / patrol (staff)
    # Where it came from (models/kpi_sources.py): wechat, 12345, on_behalf, grid, other.
    source: str | None = None
    # The community: a community account's own, always (scope.py); a street account's choice.
    community: int | None = None

    def args(self) -> dict[str, str]:
        """The filters as query arguments again (for the pager's links)."""
        values = {
            "status": self.status,
            "topic": self.topic,
            "grid": self.grid,
            "assignee": self.assignee,
            "overdue": "1" if self.overdue else None,
            "q": self.q,
            "channel": self.channel,
            "source": self.source,
            "community": self.community,
        }
        return {key: str(value) for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Row:
    number: int
    created_at: datetime
    topic: str | None
    place: str | None
    excerpt: str
    status: str
    assignee: str | None
    due_at: datetime | None
    supporters: int = 0  # 附议: other residents who reported the same problem
    channel: str = "wechat"  # how it came in (staff filed the others for a resident)
    community_id: int = HOME_ID
    source: str | None = None  # a platform's work order: "12345", "grid", …
    external_id: str | None = None  # its order number
    topic_by: str | None = None  # who set the topic at filing: "rules", "model", None
    topic_confirmed: bool = False  # a person chose or confirmed it since
    spot: str | None = None  # where the problem is, when the report named a place (3号楼)

    @property
    def by_model(self) -> bool:
        """Filed by the learned model and nobody has confirmed the topic yet (worth a look)."""
        return self.topic_by == "model" and not self.topic_confirmed

    def overdue(self, now: datetime) -> bool:
        return self.status in OPEN_STATUSES and self.due_at is not None and self.due_at < now


def _where(query: AnySelect, filters: Filters, now: datetime) -> AnySelect:
    if filters.community is not None:
        query = query.where(Ticket.community_id == filters.community)
    if filters.status == OPEN:
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    elif filters.status is not None:
        query = query.where(Ticket.status == filters.status)
    if filters.topic == NONE:
        query = query.where(Ticket.topic_id.is_(None))
    elif filters.topic is not None:
        query = query.where(Ticket.topic_id == filters.topic)
    if filters.grid is not None:
        query = query.where(Ticket.grid_id == filters.grid)
    if filters.assignee == NONE:
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee is not None:
        query = query.where(Ticket.assignee_id == filters.assignee)
    if filters.overdue:
        query = query.where(Ticket.status.in_(OPEN_STATUSES), Ticket.due_at < now)
    if filters.channel is not None:
        query = query.where(Ticket.channel == filters.channel)
    if filters.source is not None:
        query = query.where(in_group(filters.source))
    if filters.q:
        number = filters.q.lstrip("#＃")
        if number.isascii() and number.isdigit() and len(number) < 10:
            query = query.where(Ticket.number == int(number))
        else:
            escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Ticket.text.like(f"%{escaped}%", escape="\\"))
    return query


NEWEST_FIRST = (Ticket.created_at.desc(), Ticket.id.desc())


def _page_ids(db: Session, filters: Filters, now: datetime, page: int) -> list[int]:
    """The ids of one page, newest first, read from the ticket table (and its indexes) alone.

    Overdue and status=open span five states: one walk of the (status, created_at) index per
    state, each stopping once it has enough, merged, instead of sorting every open ticket.
    """
    offset = (page - 1) * PAGE_SIZE
    spans_open_states = filters.status == OPEN or (filters.overdue and filters.status is None)
    if not spans_open_states:
        query = _where(select(Ticket.id), filters, now).order_by(*NEWEST_FIRST)
        return list(db.scalars(query.limit(PAGE_SIZE).offset(offset)))
    walks = [
        _where(select(Ticket.id, Ticket.created_at), replace(filters, status=status), now)
        .order_by(*NEWEST_FIRST)
        .limit(offset + PAGE_SIZE)
        .subquery()
        for status in OPEN_STATUSES
    ]
    merged = union_all(*(select(walk.c.id, walk.c.created_at) for walk in walks)).subquery()
    query = select(merged.c.id).order_by(merged.c.created_at.desc(), merged.c.id.desc())
    return list(db.scalars(query.limit(PAGE_SIZE).offset(offset)))


def ticket_page(db: Session, filters: Filters, now: datetime, page: int) -> tuple[list[Row], int]:
    """One page of matching tickets, newest first, and how many match in all."""
    ids = _page_ids(db, filters, now, page)
    assignee = aliased(Person)
    query = (
        select(
            Ticket.id,
            Ticket.number,
            Ticket.created_at,
            Topic.name,
            Ticket.place,
            func.substr(Ticket.text, 1, EXCERPT_CHARS + 1),
            Ticket.status,
            assignee.name,
            Ticket.due_at,
            Ticket.supporters,
            Ticket.channel,
            Ticket.community_id,
            Ticket.source,
            Ticket.external_id,
            Ticket.topic_by,
            Ticket.topic_confirmed,
            Ticket.spot,
        )
        .outerjoin(Topic, Topic.id == Ticket.topic_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(Ticket.id.in_(ids))
    )
    found = {row[0]: Row(*row[1:]) for row in db.execute(query)} if ids else {}
    total = db.scalar(_where(select(func.count(Ticket.id)), filters, now)) or 0
    return [found[i] for i in ids if i in found], total


@dataclass(frozen=True)
class Choices:
    """What the filter and reassign select lists offer."""

    topics: list[tuple[int, str, bool]]  # id, name, enabled
    grids: list[tuple[int, str]]
    staff: list[tuple[int, str]]  # who may hold a ticket: id, name (or masked openid)
    handlers: list[tuple[int, str]]  # whom 转派 may name (staff with a level, as in chat)


def choices(db: Session, scope: Scope = STREET) -> Choices:
    """What the lists offer within `scope`: its grids, and its staff with the street's (who
    take what leaves a community, as routing does)."""
    topics = db.execute(
        select(Topic.id, Topic.name, Topic.enabled).order_by(Topic.sort_order, Topic.id)
    ).all()
    grids = db.execute(
        scoped(select(Grid.id, Grid.name), Grid.community_id, scope).order_by(Grid.name)
    ).all()
    people = db.execute(
        scoped(
            select(Person.id, Person.name, Person.openid, Person.staff_level),
            Person.community_id,
            scope,
            street_wide=True,
        )
        .where(or_(Person.role.in_((Role.STAFF, Role.ADMIN)), Person.staff_level >= 1))
        .order_by(Person.staff_level, Person.name, Person.id)
    ).all()
    return Choices(
        [(t.id, t.name, t.enabled) for t in topics],
        [(g.id, g.name) for g in grids],
        [(p.id, p.name or mask_openid(p.openid)) for p in people],
        [(p.id, p.name or mask_openid(p.openid)) for p in people if p.staff_level >= 1],
    )


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    who: str | None  # None: the system (sweeps, an admin without a WeChat identity)
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None


@dataclass(frozen=True)
class AttachmentView:
    kind: str
    at: datetime
    link: str | None  # an http(s) picture address
    details: list[tuple[str, str]]
    id: int = 0
    # The kept copy (console/media.py): how it is shown, or why there is none.
    media: Shown = Shown(None, None)


@dataclass
class Detail:
    """Everything the ticket page shows."""

    ticket: Ticket
    resident: str  # masked openid
    resident_name: str | None
    phone: str | None  # masked
    household: str | None
    grid: str | None
    assignee: str | None
    attachments: list[AttachmentView] = field(default_factory=list)
    timeline: list[Entry] = field(default_factory=list)
    # 代居民登记: who filed it (None: the resident themself), and whether staff must call the
    # resident back because the account cannot reach them (models/onbehalf.py).
    filed_by: str | None = None
    callback: bool = False
    # The number in full, for staff who must call (a viewer's page shows `phone`, masked).
    callback_phone: str | None = None


def ticket_detail(db: Session, number: int) -> Detail | None:
    """The ticket numbered `number` with its people, attachments and timeline."""
    ticket = db.scalars(
        select(Ticket)
        .where(Ticket.number == number)
        .options(
            selectinload(Ticket.topic),
            selectinload(Ticket.attachments),
            selectinload(Ticket.events),
        )
    ).one_or_none()
    if ticket is None:
        return None
    ids = {ticket.person_id, ticket.assignee_id, ticket.filed_by_id}
    ids |= {e.actor_id for e in ticket.events}
    people = {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(ids - {None})))}
    # None: filed by staff for a resident the account does not know (a phone call, a visit).
    resident = people.get(ticket.person_id) if ticket.person_id is not None else None
    binding = approved_binding(db, ticket.person_id) if ticket.person_id is not None else None
    grid = db.get(Grid, ticket.grid_id) if ticket.grid_id is not None else None
    holder = people.get(ticket.assignee_id) if ticket.assignee_id is not None else None
    # Staff filing for a resident: the phone the resident gave them is the one to call.
    phone = ticket.phone or (binding.phone if binding else None)
    callback = resident is None or not resident.following
    return Detail(
        ticket=ticket,
        resident=mask_openid(resident.openid) if resident is not None else "",
        resident_name=resident.name if resident is not None else None,
        phone=mask_phone(phone),
        household=binding.household.label if binding else None,
        grid=grid.name if grid else None,
        assignee=_name(holder),
        attachments=[_attachment(a) for a in ticket.attachments],
        timeline=[_entry(e, people, ticket.person_id) for e in ticket.events],
        filed_by=_name(people.get(ticket.filed_by_id)) if ticket.filed_by_id else None,
        callback=callback,
        callback_phone=phone if callback else None,
    )


def _name(person: Person | None) -> str | None:
    if person is None:
        return None
    return person.name or mask_openid(person.openid)


def _entry(event: Any, people: dict[int, Person], resident_id: int | None) -> Entry:
    who = people.get(event.actor_id) if event.actor_id is not None else None
    mine = resident_id is not None and event.actor_id == resident_id
    name = "居民" if mine else _name(who)
    return Entry(event.at, name, event.action, event.from_status, event.to_status, event.note)


def _attachment(a: Attachment) -> AttachmentView:
    try:
        values = json.loads(a.data)
    except ValueError:
        values = {}
    if not isinstance(values, dict):
        values = {}
    link = values.get("picurl")
    if not (isinstance(link, str) and link.startswith(("https://", "http://"))):
        link = None
    shown = ("label", "location_x", "location_y", "format", "title", "url")
    details = [(key, str(values[key])) for key in shown if values.get(key)]
    media = shown_media(a.media_status, a.media_type, a.media_bytes, a.media_error)
    return AttachmentView(a.kind, a.created_at, link, details, a.id, media)
