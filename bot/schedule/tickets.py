"""督·评 in time: the sweeps that watch tickets' deadlines, ratings and follow-ups.

The acts live in models/sweeps/tickets.py; here they are registered with the scheduler's
sweep (jobs.py) and given the clock and the `[tickets]` numbers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.sweeps import (
    TicketPolicy,
    ask_followups,
    remind_ratings,
    triage_unassigned,
    watch_deadlines,
)

from ..config import Settings
from .jobs import register_sweep


def policy(settings: Settings) -> TicketPolicy:
    tickets = settings.tickets
    return TicketPolicy(
        tz=settings.tz,
        ladder=settings.ladder,
        triage_hours=tickets.triage_hours,
        triage_sla_hours=tickets.triage_sla_hours,
        warn_before_hours=tickets.warn_before_hours,
        rating_days=tickets.rating_days,
    )


@register_sweep("ticket_triage")
def triage(session: Session, now: datetime, settings: Settings) -> str | None:
    return triage_unassigned(session, now, policy(settings))


@register_sweep("ticket_deadlines")
def deadlines(session: Session, now: datetime, settings: Settings) -> str | None:
    return watch_deadlines(session, now, policy(settings))


@register_sweep("ticket_ratings")
def ratings(session: Session, now: datetime, settings: Settings) -> str | None:
    return remind_ratings(session, now, policy(settings))


@register_sweep("ticket_followups")
def followups(session: Session, now: datetime, settings: Settings) -> str | None:
    return ask_followups(session, now)
