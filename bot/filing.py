"""Staff filing for a resident, as the console's form and `tickets file` both do it: the
intake policy from the config, and the ticket's origin on its timeline.

The rules themselves are models/intake.py's; the checks of what staff typed are
models/onbehalf.py's. This is only the glue both channels share.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from models.intake import Intake, Outcome, Policy
from models.lifecycle import Actor, record_event
from models.onbehalf import OnBehalf, file_for
from models.rules import Classification
from models.tickets import Ticket
from words.channels import CHANNEL_NAMES

from .config import Settings

# Outcomes that made a new ticket (the others found one: the same text again, a 附议).
NEW = (Outcome.FILED, Outcome.UNSURE)


def policy_from(settings: Settings) -> Policy:
    """The [tickets] and [abuse] numbers intake applies."""
    return Policy(
        same_text_minutes=settings.tickets.same_text_minutes,
        max_open_tickets=settings.abuse.max_open_tickets,
        support_hours=settings.abuse.support_hours,
        triage_hours=settings.tickets.triage_sla_hours,
        tz=settings.tz,
    )


def file_on_behalf(
    db: Session,
    request: OnBehalf,
    settings: Settings,
    classify: Callable[[str], Classification],
    *,
    recorder: str,
) -> Intake:
    """File `request` through the one intake; a new ticket's timeline says who took it down
    and how (`recorder`: the staff member's or console account's name, or the CLI)."""
    result = file_for(db, request, policy_from(settings), classify)
    if result.outcome in NEW and result.ticket_id is not None:
        ticket = db.get(Ticket, result.ticket_id)
        if ticket is not None:
            how = CHANNEL_NAMES.get(request.channel, request.channel)
            actor = Actor(request.filed_by)
            note = f"代居民登记（{how}）：{recorder}"
            record_event(db, ticket, "on_behalf", actor, request.now, before=None, note=note)
    return result
