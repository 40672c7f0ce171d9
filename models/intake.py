"""Intake: what a resident reports becomes a ticket, a 附议, or a reason why not — once.

Every channel (WeChat, staff filing for a resident who phoned or walked in, later the city
platforms' API) hands a `Report` to `intake()`, which decides and writes in the caller's
transaction on one Session, and returns an `Intake` that the channel turns into its own words.
No channel repeats a rule of intake.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy.orm import Session

from .routing import Route
from .rules import Classification

CHANNELS = ("wechat", "phone", "visit", "patrol")


class Outcome(enum.StrEnum):
    """What became of a report."""

    FILED = "filed"  # a new ticket under the topic the classifier found
    UNSURE = "unsure"  # a new ticket the classifier could not place: offer `candidates`
    SAME_AGAIN = "same_again"  # the same text from the same person moments ago: that ticket
    SUPPORTED = "supported"  # 附议: linked to a neighbour's open ticket about the same problem
    SUPPORTED_AGAIN = "supported_again"  # 附议 on a ticket they already supported
    TOO_MANY_OPEN = "too_many_open"  # the person holds [abuse] max_open_tickets: nothing filed


@dataclass(frozen=True)
class Hint:
    """Speculative work done before the write lock (SQLite has one writer): the text routed as
    the ticket it will probably become. `intake` uses it only when it was made for the same
    person, topic and place hint; otherwise it routes again. Nothing depends on it."""

    person_id: int | None
    building_id: int | None  # the Report's place hint it was routed with
    topic: str | None  # the topic name routed for (None: triage)
    topic_id: int | None
    sla_hours: float | None  # None: the triage deadline
    route: Route


@dataclass(frozen=True)
class Report:
    """One report to take in, from any channel. `text` is stored and shown as written."""

    text: str
    channel: str  # one of CHANNELS
    person_id: int | None  # the resident it is for (None: unknown)
    now: datetime
    filed_by: int | None = None  # the staff member who filed it on the resident's behalf
    phone: str | None = None  # the phone the resident gave (on-behalf)
    building_id: int | None = None  # where it is about, when the channel knows
    hint: Hint | None = None


@dataclass(frozen=True)
class Policy:
    """The [tickets] and [abuse] numbers intake applies (0 turns a check off)."""

    same_text_minutes: float = 10  # the same text again within this is the same ticket
    max_open_tickets: int = 5  # open tickets a resident may hold (staff are exempt)
    support_hours: float = 24  # how recent a neighbour's ticket is for a 附议
    triage_hours: float = 24  # the deadline of a ticket no topic fits
    tz: tzinfo = UTC  # the community's time zone, for times in pushes


@dataclass(frozen=True)
class Intake:
    """What became of a report; each channel says it in its own words."""

    outcome: Outcome
    number: int | None = None  # the ticket filed, found again, or supported
    ticket_id: int | None = None
    topic: str | None = None  # its topic (None: triage)
    candidates: tuple[str, ...] = ()  # UNSURE: the classifier's topic names, best first
    open_numbers: tuple[int, ...] = ()  # TOO_MANY_OPEN: the person's open tickets
    open_count: int = 0  # TOO_MANY_OPEN: how many they hold
    assignee_id: int | None = None  # FILED / UNSURE: who holds the new ticket


def intake(
    db: Session,
    report: Report,
    policy: Policy,
    classify: Callable[[str], Classification],
) -> Intake:
    """Take `report` in, in `db`'s transaction: same text again, 附议, over the cap, or file
    (routed, with its deadline, timeline entry and the push to its holder)."""
    raise NotImplementedError  # filled in the next commit on i15-intake
