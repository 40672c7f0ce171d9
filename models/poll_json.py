"""A poll as `poll show --json` prints it (a contract): its fields and its tally. The API's
poll (models/api/agenda_polls.py) is this body without who voted what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .agenda import AgendaItem
from .communities import Community
from .paper_ballots import paper_ballots
from .polls import Poll, scope_text, tally


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _community_name(session: Session, poll: Poll) -> str | None:
    """The poll's community's name; None: street-wide."""
    community = session.get(Community, poll.community_id) if poll.community_id else None
    return community.name if community is not None else None


def poll_json(session: Session, poll: Poll) -> dict[str, Any]:
    """A poll and its tally, as `poll show --json` prints it."""
    result = tally(session, poll)
    item = session.get(AgendaItem, poll.agenda_id) if poll.agenda_id is not None else None
    paper = [
        {
            "household": p.household,
            "choices": p.choices,
            "entered_by": p.entered_by,
            "at": _iso(p.at),
        }
        for p in paper_ballots(session, poll)
    ]
    return {
        "number": poll.number,
        "agenda": item.number if item is not None else None,
        "paper_ballots": paper,
        "status": poll.status,
        "title": poll.title,
        "description": poll.description,
        "options": dict(zip(poll.labels, poll.options, strict=True)),
        "scope": scope_text(session, poll),
        "community": _community_name(session, poll),
        "unit": poll.unit,
        "eligibility": poll.eligibility,
        "max_choices": poll.max_choices,
        "anonymous": poll.anonymous,
        "hide_results": poll.hide_results,
        "counts": dict(result.counts),
        "ballots": result.ballots,
        "eligible": result.eligible,
        "turnout": result.turnout,
        "quorum": poll.quorum,
        "threshold": poll.threshold,
        "quorum_met": result.quorum_met,
        "leaders": list(result.leaders),
        "tie": result.tie,
        "passed": result.passed,
        "decision": poll.decision,
        "opens_at": _iso(poll.opens_at),
        "closes_at": _iso(poll.closes_at),
        "closed_at": _iso(poll.closed_at),
        "decided_at": _iso(poll.decided_at),
        "created_at": _iso(poll.created_at),
    }
