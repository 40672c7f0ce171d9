"""The annual report of 议题 (what a committee files): every item of a year with its meetings,
votes, decision, outcome, owner, dates and ratings, one row per item.

Which items: those proposed in the year, or with anything on their timeline in it (an item
proposed in December and carried out in March is in both years' reports) — the year cut at
the configured time zone's midnights. A community's report holds its own items only; the
street's holds every item, the street-wide ones included (社区 says 全街道).

No resident is named: the report is filed outside the committee, and what a proposal says is
what the committee answered, not who asked (the public 公示 page holds no personal data
either). Staff are named (the admin who opened an item, the owner): they act for the office.

Texts are as written. Each cell is a str, an int, a float (满意率, 0-1) or None; the writers
(bot/spreadsheets.py) make CSV and XLSX of them. A handful of queries for the whole year,
each grouped over the year's items, never one per item.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, tzinfo
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from words import agenda_report as w

from .agenda import AgendaBacking, AgendaEvent, AgendaItem, AgendaObjection, AgendaRating
from .agenda import satisfaction as satisfaction_of
from .communities import community_names
from .meetings import ATTEND, EXCUSED, Meeting, MeetingAgenda, MeetingInvite
from .people import Person
from .polls import LABELS, Ballot, Poll

Row = dict[str, Any]


def year_bounds(year: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """The local midnights that start `year` and the year after."""
    return (
        datetime.combine(date(year, 1, 1), time(), tzinfo=tz),
        datetime.combine(date(year + 1, 1, 1), time(), tzinfo=tz),
    )


def report_items(
    db: Session, year: int, tz: tzinfo, community_id: int | None = None
) -> list[AgendaItem]:
    """The items of `year` (see the module's docstring), by number; `community_id`: only
    that community's own."""
    since, until = year_bounds(year, tz)
    active = select(AgendaEvent.agenda_id).where(AgendaEvent.at >= since, AgendaEvent.at < until)
    query = select(AgendaItem).where(
        or_(
            (AgendaItem.created_at >= since) & (AgendaItem.created_at < until),
            AgendaItem.id.in_(active),
        )
    )
    if community_id is not None:
        query = query.where(AgendaItem.community_id == community_id)
    return list(db.scalars(query.order_by(AgendaItem.number)))


def annual_report(db: Session, year: int, tz: tzinfo, community_id: int | None = None) -> list[Row]:
    """One row per item of `year`, keyed as words/agenda_report.py's REPORT_COLUMNS."""
    items = report_items(db, year, tz, community_id)
    ids = [item.id for item in items]
    if not ids:
        return []
    found = _Found(db, ids, tz)
    names = community_names(db)

    def community(item: AgendaItem) -> str:
        return w.STREET_WIDE if item.community_id is None else names[item.community_id]

    return [found.row(item, community(item)) for item in items]


def _day(at: datetime | None, tz: tzinfo) -> str | None:
    return at.astimezone(tz).date().isoformat() if at is not None else None


class _Found:
    """What the rows need besides the items, gathered by a few grouped queries."""

    def __init__(self, db: Session, ids: list[int], tz: tzinfo) -> None:
        self.tz = tz
        self.backing = self._counts(db, AgendaBacking.agenda_id, ids)
        self.objections = self._counts(db, AgendaObjection.agenda_id, ids)
        self.ratings = self._ratings(db, ids)
        self.meetings = self._meetings(db, ids)
        self.polls = self._polls(db, ids)
        owners = select(AgendaItem.owner_id).where(AgendaItem.id.in_(ids))
        staff = db.execute(select(Person.id, Person.name).where(Person.id.in_(owners)))
        self.staff = {person_id: name for person_id, name in staff}

    @staticmethod
    def _counts(db: Session, column: Any, ids: list[int]) -> dict[int, int]:
        rows = db.execute(select(column, func.count()).where(column.in_(ids)).group_by(column))
        return {agenda_id: int(count) for agenda_id, count in rows}

    @staticmethod
    def _ratings(db: Session, ids: list[int]) -> dict[int, dict[str, int]]:
        found: dict[int, dict[str, int]] = defaultdict(
            lambda: {"1": 0, "2": 0, "3": 0, "h": 0, "n": 0}
        )
        held = func.count(case((AgendaRating.held.is_(True), 1)))
        not_held = func.count(case((AgendaRating.held.is_(False), 1)))
        rows = db.execute(
            select(AgendaRating.agenda_id, AgendaRating.rating, func.count(), held, not_held)
            .where(AgendaRating.agenda_id.in_(ids))
            .group_by(AgendaRating.agenda_id, AgendaRating.rating)
        )
        for agenda_id, rating, count, yes, no in rows:
            counts = found[agenda_id]
            if rating is not None:
                counts[str(rating)] += int(count)
            counts["h"] += int(yes)
            counts["n"] += int(no)
        return found

    def _meetings(self, db: Session, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        invites = (
            select(
                MeetingInvite.meeting_id,
                func.count().label("invited"),
                func.count(case((MeetingInvite.answer == ATTEND, 1))).label("attending"),
                func.count(case((MeetingInvite.answer == EXCUSED, 1))).label("excused"),
            )
            .group_by(MeetingInvite.meeting_id)
            .subquery()
        )
        rows = db.execute(
            select(MeetingAgenda.agenda_id, MeetingAgenda.outcome, Meeting, invites)
            .join(Meeting, Meeting.id == MeetingAgenda.meeting_id)
            .outerjoin(invites, invites.c.meeting_id == Meeting.id)
            .where(MeetingAgenda.agenda_id.in_(ids), Meeting.cancelled_at.is_(None))
            .order_by(Meeting.at, Meeting.number)
        )
        found: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for row in rows:
            cell = w.MEETING_CELL.format(
                number=row.Meeting.number,
                date=_day(row.Meeting.at, self.tz),
                invited=row.invited or 0,
                attending=row.attending or 0,
                excused=row.excused or 0,
            )
            outcome = row.outcome or row.Meeting.minutes or ""
            found[row.agenda_id].append((cell, outcome))
        return found

    def _polls(self, db: Session, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        polls = list(db.scalars(select(Poll).where(Poll.agenda_id.in_(ids)).order_by(Poll.number)))
        ballots: dict[int, dict[str, int]] = defaultdict(dict)
        rows = db.execute(
            select(Ballot.poll_id, Ballot.choices, func.count())
            .where(Ballot.poll_id.in_([p.id for p in polls]))
            .group_by(Ballot.poll_id, Ballot.choices)
        )
        for poll_id, choices, count in rows:
            ballots[poll_id][choices] = int(count)
        found: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for poll in polls:
            cast = ballots[poll.id]
            options = json.loads(poll.options_json)
            counts = " ".join(
                f"{option}{sum(n for c, n in cast.items() if label in c)}"
                for label, option in zip(LABELS, options, strict=False)
            )
            cell = w.POLL_CELL.format(number=poll.number, ballots=sum(cast.values()), counts=counts)
            found[poll.agenda_id or 0].append((cell, poll.decision or ""))
        return found

    def row(self, item: AgendaItem, community: str) -> Row:
        tz = self.tz
        meetings, polls = self.meetings.get(item.id, []), self.polls.get(item.id, [])
        origin = w.ADMIN_ORIGIN.format(name=item.created_by) if item.created_by else None
        return {
            "number": item.number,
            "title": item.title,
            "community": community,
            "stage": w.STAGE_LABELS.get(item.stage, item.stage),
            "body": item.body,
            "origin": origin or w.RESIDENT_ORIGIN,
            "proposed": _day(item.created_at, tz),
            "backing": self.backing.get(item.id, 0),
            "backing_needed": item.backing_needed,
            "accepted": _day(item.accepted_at, tz),
            "decline_reason": item.decline_reason,
            "meetings": w.JOIN.join(cell for cell, _ in meetings) or None,
            "minutes": w.JOIN.join(text for _, text in meetings if text) or None,
            "polls": w.JOIN.join(cell for cell, _ in polls) or None,
            "poll_decisions": w.JOIN.join(text for _, text in polls if text) or None,
            "decision": item.decision,
            "publicised": _day(item.publicised_at, tz),
            "objections": self.objections.get(item.id, 0),
            "owner": self._owner(item),
            "due": _day(item.due_at, tz),
            "result": item.result,
            "done": _day(item.done_at, tz),
            **self._judged(item.id),
        }

    def _owner(self, item: AgendaItem) -> str | None:
        staff = self.staff.get(item.owner_id) if item.owner_id is not None else None
        if item.owner_party:
            return w.OWNER_WITH_PARTY.format(party=item.owner_party, staff=staff or "")
        return staff

    def _judged(self, agenda_id: int) -> Row:
        """The 评议 counts, the 满意率 and the 回头看's answers (None: nobody answered)."""
        ratings = self.ratings[agenda_id]
        counts = {key: ratings[key] for key in ("1", "2", "3")}
        review = w.REVIEW_CELL.format(held=ratings["h"], not_held=ratings["n"])
        return {
            "rating_1": counts["1"],
            "rating_2": counts["2"],
            "rating_3": counts["3"],
            "satisfaction": satisfaction_of(counts),
            "review": review if ratings["h"] + ratings["n"] else None,
        }
