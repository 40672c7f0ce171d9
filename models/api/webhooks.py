"""Webhook subscriptions: a key's URL, the event types it wants, and the secret its deliveries
are signed with (kept in clear: signing needs it; it is never shown again).

Events (`EVENT_TYPES`) are recorded by the domain change that causes them, in its transaction,
as outbox rows (kind WEBHOOK) — one per matching subscription — so a delivery exists exactly
when its cause was committed, and is retried, ordered per ticket and shown like any push.

A row's payload holds the delivery body as the text that is posted and signed (`body`: JSON,
`{"id", "type", "created_at", "data": {"ticket": …}}`), the subscription it is for, and what
the console shows and filters by (event type, URL, the ticket's or item's community). Rows
about one ticket (or one 议题) for one subscription share an order key ("w<sub>:t<ticket>",
"w<sub>:a<item>"): the worker sends them oldest first (bot/delivery/webhooks.py).

The filing path runs `emit` for every ticket: with no live subscription it costs one prepared
query on the (small) subscription table and nothing else.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ForeignKey, String, Table, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from words.channels import rejected_result

from ..base import Base, UTCDateTime
from ..communities import Community
from ..outbox import PENDING, OutboxMessage
from ..prepared import Prepared, connection_of
from ..tickets import Ticket
from .keys import ApiKey
from .ticket_json import api_ticket

if TYPE_CHECKING:
    from ..agenda import AgendaEvent, AgendaItem

TICKET_EVENTS = (
    "ticket.created",
    "ticket.accepted",
    "ticket.resolved",
    "ticket.rejected",
    "ticket.rated",
)
AGENDA_EVENTS = ("agenda.*",)  # every stage and event of a 议题 (models/agenda.py)
EVENT_TYPES = TICKET_EVENTS + AGENDA_EVENTS
WEBHOOK = "webhook"  # the outbox kind of a delivery
# The scope a key needs to receive each family of events.
EVENT_SCOPES = {"ticket": "tickets:read", "agenda": "agenda:read"}


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"))
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[str] = mapped_column(String(500))  # comma-separated, as EVENT_TYPES
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def scope_for(event_type: str) -> str:
    """The scope a key needs to receive `event_type` ("ticket.…" or "agenda.…")."""
    return EVENT_SCOPES[event_type.split(".", 1)[0]]


def wants(events: str, event_type: str) -> bool:
    """Whether a subscription to `events` (comma-joined) receives `event_type`."""
    wanted = events.split(",")
    return event_type in wanted or (event_type.startswith("agenda.") and "agenda.*" in wanted)


_S = cast(Table, WebhookSubscription.__table__)
_K = cast(Table, ApiKey.__table__)
_O = cast(Table, OutboxMessage.__table__)
# Every live subscription with its key's scopes and community: the one query `emit` makes
# (no rows, the usual case: nothing else happens).
_LIVE = Prepared(
    select(_S.c.id, _S.c.url, _S.c.events, _K.c.scopes, _K.c.community_id)
    .select_from(_S.join(_K, _K.c.id == _S.c.key_id))
    .where(_S.c.deleted_at.is_(None), _K.c.revoked_at.is_(None))
    .order_by(_S.c.id)
)
_INSERT = Prepared(
    insert(_O),
    keys=[
        "kind",
        "person_id",
        "payload",
        "dedupe_key",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "order_key",
    ],
)


@dataclass(frozen=True)
class Live:
    """A live subscription, as `emit` matches it."""

    id: int
    url: str
    events: str
    scopes: frozenset[str]
    community_id: int | None  # its key's (None: the street)

    def receives(self, event_type: str, community_id: int | None, *, street_wide: bool) -> bool:
        """Its key may read this event, it asked for it, and the row is in its community (a
        street-wide 议题 is every community's)."""
        if scope_for(event_type) not in self.scopes or not wants(self.events, event_type):
            return False
        return self.community_id in (None, community_id) or street_wide


def live_subscriptions(db: Session) -> list[Live]:
    rows = _LIVE.run(connection_of(db), {})
    return [
        Live(int(i), url, events, frozenset(s for s in scopes.split(",") if s), community)
        for i, url, events, scopes, community in rows
    ]


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def emit(
    db: Session,
    event_type: str,
    now: datetime,
    *,
    ticket: Ticket | int | None = None,
    agenda: AgendaItem | None = None,
    event: AgendaEvent | None = None,
    **extra: Any,
) -> int:
    """Record `event_type` about `ticket` (the row or its id) or `agenda` (with its timeline
    `event`) for every live subscription that receives it, in `db`'s transaction; `extra`
    goes into the body's `data` (ticket.rejected: `reason`). Returns how many rows."""
    subscriptions = live_subscriptions(db)
    if not subscriptions:
        return 0
    found: Ticket | None = None
    community_id: int | None
    if ticket is not None:
        found = db.get(Ticket, ticket) if isinstance(ticket, int) else ticket
        assert found is not None
        community_id, street_wide, order = found.community_id, False, f"t{found.id}"
    else:
        assert agenda is not None
        community_id, street_wide = agenda.community_id, agenda.community_id is None
        order = f"a{agenda.id}"
    wanted = [
        s for s in subscriptions if s.receives(event_type, community_id, street_wide=street_wide)
    ]
    if not wanted:
        return 0
    event_id = new_event_id()
    bodies: dict[bool, str] = {}  # by `personal`: phones and names shown or masked
    conn = connection_of(db)
    for sub in wanted:
        personal = "personal" in sub.scopes
        if personal not in bodies:
            if found is not None:
                data = _ticket_data(db, found, event_type, personal, extra)
            else:
                assert agenda is not None
                data = {"agenda": agenda_data(db, agenda, event, personal=personal), **extra}
            bodies[personal] = body_text(event_id, event_type, now, data)
        payload = {
            "subscription": sub.id,
            "event": event_id,
            "type": event_type,
            "url": sub.url,
            "community_id": community_id,
            "body": bodies[personal],
        }
        _INSERT.run(conn, _row(payload, f"webhook:{sub.id}:{event_id}", f"w{sub.id}:{order}", now))
    return len(wanted)


def _row(payload: dict[str, Any], dedupe: str, order_key: str, now: datetime) -> dict[str, Any]:
    return {
        "kind": WEBHOOK,
        "person_id": None,
        "payload": payload,
        "dedupe_key": dedupe,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "order_key": order_key,
    }


def body_text(event_id: str, event_type: str, now: datetime, data: dict[str, Any]) -> str:
    """The delivery body, as posted and signed (compact JSON, UTF-8 as is)."""
    body = {"id": event_id, "type": event_type, "created_at": now.isoformat(), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _ticket_data(
    db: Session, ticket: Ticket, event_type: str, personal: bool, extra: dict[str, Any]
) -> dict[str, Any]:
    data: dict[str, Any] = {"ticket": api_ticket(db, ticket, personal=personal, timeline=False)}
    data.update(extra)
    if event_type == "ticket.rejected":
        data["result"] = rejected_result(ticket.source)
    return data


# Timeline lines whose text a resident wrote (models/agenda.py OBJECTION: 异议 as written;
# agenda imports this module, so the name is not imported): told only to `personal` keys.
RESIDENT_WRITTEN = frozenset({"objection"})


def agenda_data(
    db: Session, item: AgendaItem, event: AgendaEvent | None, *, personal: bool
) -> dict[str, Any]:
    """A 议题 in a delivery: what it is, its stage, and the timeline line that was added.
    What residents wrote (the proposal, an objection) only for a key with `personal`, as
    GET /api/v1/agenda shows it (models/api/agenda_polls.py api_agenda)."""
    community = None
    if item.community_id is not None:
        community = db.scalar(select(Community.name).where(Community.id == item.community_id))
    data: dict[str, Any] = {
        "number": item.number,
        "title": item.title,
        "stage": item.stage,
        "community": community,  # None: the street's
        "text": item.body if personal else None,
        "decision": item.decision,
        "result": item.result,
        "due_at": _iso(item.due_at),
        "created_at": _iso(item.created_at),
        "stage_at": _iso(item.stage_at),
    }
    if event is not None:
        text = event.text if personal or event.kind not in RESIDENT_WRITTEN else None
        data["event"] = {"kind": event.kind, "at": _iso(event.at), "text": text}
    return data


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
