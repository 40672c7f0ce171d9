"""Webhook subscriptions: a key's URL, the event types it wants, and the secret its deliveries
are signed with (kept in clear: signing needs it; it is never shown again).

Events (`EVENT_TYPES`) are recorded by the domain change that causes them, in its transaction,
as outbox rows (kind WEBHOOK) — one per matching subscription — so a delivery exists exactly
when its cause was committed, and is retried, ordered per ticket and shown like any push.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, UTCDateTime

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


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"))
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[str] = mapped_column(String(500))  # comma-separated, as EVENT_TYPES
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
