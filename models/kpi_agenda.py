"""议题 pipeline figures (工作台 and 街道看板): items by stage, how long a proposal waits for
立项 and for 完成, and the 满意率 of the decisions carried out.

Definitions (chosen here, shown on the pages that use them):
- by stage: every item as it stands now (the pipeline, like 待处理 for tickets), by its stage;
- 提议→立项 and 提议→完成: the median, in days, of `accepted_at − created_at` and of
  `done_at − created_at` over residents' proposals (`created_by` empty: an item an admin opened
  itself starts on the agenda and would pull the median to 0) that reached 立项 / 完成 within
  the window (the last 365 days by default). The median, not the mean: one item that waited a
  year says little about the rest, and a committee reads "half the proposals are answered
  within N days" as a promise;
- 满意率 = (满意 + 基本满意) ÷ all ratings given within the window (models.agenda.satisfaction).

Two queries whatever the number of items: one grouped by (community, stage) that also sums
each item's ratings from a grouped subquery, and one of the (created, accepted, done) times of
the proposals in the window — the median has no portable SQL, so it is taken in Python, as
models/kpi.py does for tickets' response times. Rows are keyed by community id; None holds
the street-wide items (those for every community).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from words.agenda_report import STREET_WIDE, TOTAL

from .agenda import STAGES, AgendaItem, AgendaRating, satisfaction
from .communities import community_names

WINDOW_DAYS = 365
DAY_SECONDS = 86_400.0
ALL = "all"  # `pipeline(community=ALL)`: every item, the street-wide ones included


@dataclass
class Pipeline:
    """One community's (or the street's) 议题 figures."""

    stages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    satisfied: int = 0  # ratings 满意 or 基本满意
    rated: int = 0
    to_accept: list[float] = field(default_factory=list)  # days, one per proposal
    to_done: list[float] = field(default_factory=list)

    @property
    def items(self) -> int:
        return sum(self.stages.values())

    @property
    def satisfaction_rate(self) -> float | None:
        counts = {"1": self.satisfied, "2": 0, "3": self.rated - self.satisfied}
        return satisfaction(counts)

    @property
    def days_to_accept(self) -> float | None:
        return _median(self.to_accept)

    @property
    def days_to_done(self) -> float | None:
        return _median(self.to_done)

    def add(self, other: Pipeline) -> None:
        for stage, count in other.stages.items():
            self.stages[stage] += count
        self.satisfied += other.satisfied
        self.rated += other.rated
        self.to_accept += other.to_accept
        self.to_done += other.to_done


def _median(days: list[float]) -> float | None:
    return round(statistics.median(days), 1) if days else None


def pipelines(
    db: Session, now: datetime, window_days: int = WINDOW_DAYS, only: int | None = None
) -> dict[int | None, Pipeline]:
    """The figures of every community that has items, by community id (None: street-wide);
    `only`: of that community alone."""
    since = now - timedelta(days=window_days)
    mine = [] if only is None else [AgendaItem.community_id == only]
    found: dict[int | None, Pipeline] = defaultdict(Pipeline)
    for row in db.execute(_stage_query(since).where(*mine)):
        pipeline = found[row.community_id]
        pipeline.stages[row.stage] = pipeline.stages.get(row.stage, 0) + int(row.items)
        pipeline.satisfied += int(row.satisfied or 0)
        pipeline.rated += int(row.rated or 0)
    for community_id, created, accepted, done in db.execute(_times_query(since).where(*mine)):
        pipeline = found[community_id]
        if accepted is not None and accepted >= since:
            pipeline.to_accept.append(_days(created, accepted))
        if done is not None and done >= since:
            pipeline.to_done.append(_days(created, done))
    return dict(found)


def pipeline(
    db: Session, now: datetime, community: int | str | None = ALL, window_days: int = WINDOW_DAYS
) -> Pipeline:
    """One community's figures (its own items); `ALL`: the whole street's, every item."""
    if isinstance(community, int):
        return pipelines(db, now, window_days, community).get(community, Pipeline())
    found = pipelines(db, now, window_days)
    return found.get(None, Pipeline()) if community is None else total(found.values())


def total(parts: Iterable[Pipeline]) -> Pipeline:
    """The figures of several communities together (the medians over all their items)."""
    whole = Pipeline()
    for part in parts:
        whole.add(part)
    return whole


def _stage_query(since: datetime) -> Any:
    ratings = (
        select(
            AgendaRating.agenda_id,
            func.count(case((AgendaRating.rating.in_((1, 2)), 1))).label("satisfied"),
            func.count(AgendaRating.rating).label("rated"),
        )
        .where(AgendaRating.rating.is_not(None), AgendaRating.rated_at >= since)
        .group_by(AgendaRating.agenda_id)
        .subquery()
    )
    return (
        select(
            AgendaItem.community_id,
            AgendaItem.stage,
            func.count(AgendaItem.id).label("items"),
            func.sum(ratings.c.satisfied).label("satisfied"),
            func.sum(ratings.c.rated).label("rated"),
        )
        .outerjoin(ratings, ratings.c.agenda_id == AgendaItem.id)
        .group_by(AgendaItem.community_id, AgendaItem.stage)
    )


def _times_query(since: datetime) -> Any:
    return select(
        AgendaItem.community_id,
        AgendaItem.created_at,
        AgendaItem.accepted_at,
        AgendaItem.done_at,
    ).where(
        AgendaItem.created_by == "",
        or_(
            and_(AgendaItem.accepted_at.is_not(None), AgendaItem.accepted_at >= since),
            and_(AgendaItem.done_at.is_not(None), AgendaItem.done_at >= since),
        ),
    )


def _days(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / DAY_SECONDS


def street_rows(
    db: Session, now: datetime, window_days: int = WINDOW_DAYS
) -> list[tuple[str, Pipeline]]:
    """The street's table: every community (none left out for having no items), then the
    street-wide items when there are any, then the total."""
    found = pipelines(db, now, window_days)
    rows = [(name, found.get(cid, Pipeline())) for cid, name in community_names(db).items()]
    if None in found:
        rows.append((STREET_WIDE, found[None]))
    rows.append((TOTAL, total(found.values())))
    return rows


def cells(name: str, figures: Pipeline) -> list[Any]:
    """One row of the street's table, in the order of words/agenda_report.py's
    PIPELINE_HEADERS (the 满意率 as a 0-1 number, None when nothing was rated)."""
    return [
        name,
        figures.items,
        *(figures.stages[stage] for stage in STAGES),
        figures.days_to_accept,
        figures.days_to_done,
        figures.rated,
        figures.satisfaction_rate,
    ]
