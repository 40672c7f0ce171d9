"""议题 and polls as the API shows them (GET /api/v1/agenda…, /api/v1/polls…).

An item's body is `agenda show --json`'s (models/agenda_json.py) without what a resident
wrote about themselves: the proposal's text and who proposed it are there only for a key
with `personal` (as on the public 公示 page, which never shows them). A poll's body is
`poll show --json`'s counts and decision, never who voted what (no paper ballots, no
households), and no counts while the poll hides its results from residents.

Lists are a page at a time, newest first: `cursor` is the last number of the previous page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..agenda import AgendaItem, backing_counts
from ..agenda_json import agenda_json
from ..communities import community_names
from ..people import Person
from ..poll_json import poll_json
from ..polls import CLOSED, DECIDED, Poll, ballot_counts


@dataclass(frozen=True)
class Where:
    """Which rows a list shows: `community_id` None is the whole street; `street_too` adds
    the street-wide rows (a community's key reading without naming a community)."""

    community_id: int | None
    street_too: bool = False

    def narrow(self, query: Any, column: Any) -> Any:
        if self.community_id is None:
            return query
        if self.street_too:
            return query.where(or_(column == self.community_id, column.is_(None)))
        return query.where(column == self.community_id)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _page(db: Session, query: Any, number: Any, cursor: int | None, limit: int) -> list[Any]:
    if cursor is not None:
        query = query.where(number < cursor)
    return list(db.scalars(query.order_by(number.desc()).limit(limit + 1)))


def agenda_page(
    db: Session, where: Where, stage: str | None, cursor: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of items (summaries) and the next page's cursor (None: the last page)."""
    query = where.narrow(select(AgendaItem), AgendaItem.community_id)
    if stage is not None:
        query = query.where(AgendaItem.stage == stage)
    rows = _page(db, query, AgendaItem.number, cursor, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    backing = backing_counts(db, [item.id for item in rows])
    names = community_names(db)
    items = [
        {
            "number": item.number,
            "title": item.title,
            "stage": item.stage,
            "community": names.get(item.community_id) if item.community_id else None,
            "backing": backing.get(item.id, 0),
            "backing_threshold": item.backing_needed,
            "decision": item.decision,
            "due_at": _iso(item.due_at),
            "created_at": _iso(item.created_at),
        }
        for item in rows
    ]
    return items, (rows[-1].number if more else None)


def api_agenda(
    db: Session, item: AgendaItem, tz: tzinfo, base_url: str, *, personal: bool
) -> dict[str, Any]:
    """The item as `agenda show --json` prints it; its text and proposer only if `personal`."""
    data = agenda_json(db, item, tz, base_url)
    proposer = db.get(Person, item.proposer_id) if item.proposer_id is not None else None
    data["text"] = item.body if personal else None
    data["proposer"] = {"openid": proposer.openid} if personal and proposer else None
    return data


def poll_page(
    db: Session, where: Where, status: str | None, cursor: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of polls (summaries) and the next page's cursor (None: the last page)."""
    query = where.narrow(select(Poll), Poll.community_id)
    if status is not None:
        query = query.where(Poll.status == status)
    rows = _page(db, query, Poll.number, cursor, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    ballots = ballot_counts(db, [poll.id for poll in rows])
    names = community_names(db)
    agenda = _agenda_numbers(db, [p.agenda_id for p in rows if p.agenda_id is not None])
    items = [
        {
            "number": poll.number,
            "title": poll.title,
            "status": poll.status,
            "community": names.get(poll.community_id) if poll.community_id else None,
            "agenda": agenda.get(poll.agenda_id) if poll.agenda_id is not None else None,
            "unit": poll.unit,
            "opens_at": _iso(poll.opens_at),
            "closes_at": _iso(poll.closes_at),
            "ballots": ballots.get(poll.id, 0),
            "decision": poll.decision,
        }
        for poll in rows
    ]
    return items, (rows[-1].number if more else None)


def _agenda_numbers(db: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = db.execute(select(AgendaItem.id, AgendaItem.number).where(AgendaItem.id.in_(ids)))
    return {agenda_id: number for agenda_id, number in rows}


def api_poll(db: Session, poll: Poll) -> dict[str, Any]:
    """The poll as `poll show --json` prints it, without who voted what; while it hides its
    results from residents (open, `hide_results`), without the counts either."""
    data = poll_json(db, poll)
    del data["paper_ballots"]  # households and their choices: who voted what
    hidden = poll.hide_results and poll.status not in (CLOSED, DECIDED)
    data["results_hidden"] = hidden
    if hidden:
        data.update(counts=None, leaders=None, tie=None, passed=None)
    return data
