"""What a 公示 page (/p/<token>) shows: nothing a resident wrote about themselves.

The page is public (no login) and linked from pushes residents may forward, so it carries the
item's title (already pushed to everyone in scope; the committee names the item when it
accepts it, `accept(title=)`, or lets the proposal's start stand), the committee's decision,
the period, the vote's counts and the meetings' dates — and no names, openids, phones,
addresses, proposal body (a resident's own text, which may name them or their home) or
objections. A token is 16 random bytes: guessing one is not a way in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .agenda import WITHDRAWN, AgendaItem, timeline
from .communities import Community
from .meetings import Meeting, MeetingAgenda
from .polls import CLOSED, DECIDED, HOUSEHOLD_UNIT, Poll, tally

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class PublicVote:
    number: int
    title: str
    household: bool  # 户决制
    counts: list[tuple[str, str, int]]  # (label, option, votes); [] while results are hidden
    ballots: int
    eligible: int
    final: bool  # closed or decided


@dataclass(frozen=True)
class PublicPage:
    number: int
    title: str
    decision: str
    community: str | None  # None: the whole street
    publicised_at: datetime
    until: datetime
    confirmed_at: datetime | None
    withdrawn: str | None  # the reason, when withdrawn
    votes: list[PublicVote]
    meetings: list[datetime]


def item_by_token(db: Session, token: str) -> AgendaItem | None:
    if not _TOKEN.fullmatch(token):
        return None
    return db.scalar(select(AgendaItem).where(AgendaItem.public_token == token))


def _votes(db: Session, item: AgendaItem) -> list[PublicVote]:
    votes = []
    for poll in db.scalars(select(Poll).where(Poll.agenda_id == item.id).order_by(Poll.number)):
        final = poll.status in (CLOSED, DECIDED)
        counted = tally(db, poll)
        hidden = poll.hide_results and not final
        counts = [
            (label, option, counted.counts[label])
            for label, option in zip(poll.labels, poll.options, strict=True)
        ]
        votes.append(
            PublicVote(
                poll.number,
                poll.title,
                poll.unit == HOUSEHOLD_UNIT,
                [] if hidden else counts,
                counted.ballots,
                counted.eligible,
                final,
            )
        )
    return votes


def public_page(db: Session, token: str) -> PublicPage | None:
    """The page for `token`; None: no item has it (a 404)."""
    item = item_by_token(db, token)
    if item is None or item.publicised_at is None or item.objections_until is None:
        return None
    meetings = db.scalars(
        select(Meeting.at)
        .join(MeetingAgenda, MeetingAgenda.meeting_id == Meeting.id)
        .where(MeetingAgenda.agenda_id == item.id, Meeting.cancelled_at.is_(None))
        .order_by(Meeting.at)
    )
    withdrawn = None
    if item.stage == WITHDRAWN:
        events = [e for e in timeline(db, item.id) if e.kind == WITHDRAWN]
        withdrawn = events[-1].text if events else ""
    community = db.scalar(select(Community.name).where(Community.id == item.community_id))
    return PublicPage(
        number=item.number,
        title=item.title,
        decision=item.decision or "",
        community=community,
        publicised_at=item.publicised_at,
        until=item.objections_until,
        confirmed_at=item.confirmed_at,
        withdrawn=withdrawn,
        votes=_votes(db, item),
        meetings=[at for at in meetings if at <= item.publicised_at],
    )
