"""How the 投票 pages show a poll: its state and rules in Chinese, the tally as JSON, the list.

The state names are the chat's own (handlers/vote_texts.STATE_NAMES), so residents and the
committee call a poll's state the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.vote_texts import STATE_NAMES
from models.communities import STREET, Scope
from models.places import Grid
from models.polls import (
    CLOSED,
    DECIDED,
    DRAFT,
    FOLLOWERS,
    HOUSEHOLD_UNIT,
    OPEN,
    Poll,
    Tally,
    ballot_counts,
    eligible_units,
    tally,
)
from models.scoping import scoped

STATUSES = (DRAFT, OPEN, CLOSED, DECIDED)
BADGES = {DRAFT: "pending", OPEN: "open", CLOSED: "", DECIDED: "done"}
PAGE_SIZE = 30


def status_name(status: str) -> str:
    return STATE_NAMES.get(status, status).strip("（）")


def scope_text(db: Session, poll: Poll) -> str:
    if poll.scope == "grid":
        grid = db.get(Grid, poll.scope_grid_id) if poll.scope_grid_id else None
        return f"网格：{grid.name if grid else '（已删除）'}"
    if poll.scope == "buildings":
        return "楼栋：" + "、".join(poll.buildings)
    return "全体居民"


def rules(db: Session, poll: Poll) -> list[tuple[str, str]]:
    """The poll's settings, as (label, value) rows for the page."""
    return [
        ("参与范围", scope_text(db, poll)),
        ("计票单位", "按户（户决制，一户一票）" if poll.unit == HOUSEHOLD_UNIT else "按人"),
        (
            "谁可以投票",
            "所有关注公众号的人" if poll.eligibility == FOLLOWERS else "已绑定住址并通过审核的居民",
        ),
        ("每票可选", f"{poll.max_choices} 项"),
        ("记名", "匿名（不显示谁投了什么）" if poll.anonymous else "不匿名"),
        ("结果公开", "截止后才向居民公布" if poll.hide_results else "投票期间居民可查看"),
        ("法定参与率", f"{poll.quorum * 100:g}%"),
        ("通过比例", f"{poll.threshold * 100:g}%"),
    ]


# Verdicts are (words, tone); "yes"/"no" colour them, "" leaves them neutral. Until a poll
# closes nothing has failed: the figures are "so far" and shown without red.
QUORUM_NONE = ("不设要求", "")


def quorum_verdict(poll: Poll, counted: Tally) -> tuple[str, str]:
    if poll.quorum <= 0:
        return QUORUM_NONE  # a 0 % quorum is met by any turnout, even none yet
    if poll.status in (DRAFT, OPEN):
        return ("目前已达到", "") if counted.quorum_met else ("进行中，目前未达到", "")
    return ("已达到", "yes") if counted.quorum_met else ("未达到", "no")


def passed_verdict(poll: Poll, counted: Tally) -> tuple[str, str]:
    if poll.status == DRAFT:
        return "尚未开始", ""
    if poll.status == OPEN:
        if counted.ballots == 0:
            return "进行中，尚无投票", ""
        return ("进行中，目前可通过", "") if counted.passed else ("进行中，目前未达到", "")
    return ("通过", "yes") if counted.passed else ("未通过", "no")


def tally_json(poll: Poll, counted: Tally) -> dict[str, Any]:
    """What the page's chart and figures are refreshed from (tally.json)."""
    return {
        "number": poll.number,
        "status": poll.status,
        "status_name": status_name(poll.status),
        "labels": list(poll.labels),
        "options": poll.options,
        "counts": [counted.counts[label] for label in poll.labels],
        "ballots": counted.ballots,
        "eligible": counted.eligible,
        "turnout": counted.turnout,
        "quorum": poll.quorum,
        "quorum_met": counted.quorum_met,
        "threshold": poll.threshold,
        "passed": counted.passed,
        "leaders": counted.leaders,
        "tie": counted.tie,
        "decision": poll.decision,
        "quorum_verdict": quorum_verdict(poll, counted),
        "passed_verdict": passed_verdict(poll, counted),
    }


def current_tally(db: Session, poll: Poll) -> dict[str, Any]:
    return tally_json(poll, tally(db, poll))


@dataclass(frozen=True)
class Row:
    number: int
    title: str
    status: str
    status_name: str
    badge: str
    ballots: int
    eligible: int
    closes_at: datetime

    @property
    def turnout(self) -> float | None:
        return self.ballots / self.eligible if self.eligible else None


def _scope_key(poll: Poll) -> tuple[object, ...]:
    return (
        poll.unit,
        poll.eligibility,
        poll.community_id,  # a street poll and a community's count different people
        poll.scope,
        poll.scope_grid_id,
        poll.scope_buildings,
    )


def page_of_polls(
    db: Session, status: str | None, page: int, scope: Scope = STREET
) -> tuple[list[Row], bool]:
    """A page of polls, newest first, with turnout; and whether there is a next page.

    Ballots are counted in one grouped query; eligible units once per distinct scope (most
    polls share "everyone"), so a page costs a handful of queries, not one per poll.
    """
    # A community sees its own polls and the street's (community NULL).
    query = scoped(select(Poll), Poll.community_id, scope, street_wide=True)
    query = query.order_by(Poll.number.desc())
    if status is not None:
        query = query.where(Poll.status == status)
    polls = list(db.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    more = len(polls) > PAGE_SIZE
    polls = polls[:PAGE_SIZE]
    ballots = ballot_counts(db, [poll.id for poll in polls])
    eligible: dict[tuple[object, ...], int] = {}
    rows = []
    for poll in polls:
        key = _scope_key(poll)
        if key not in eligible:
            eligible[key] = eligible_units(db, poll)
        rows.append(
            Row(
                poll.number,
                poll.title,
                poll.status,
                status_name(poll.status),
                BADGES.get(poll.status, ""),
                ballots.get(poll.id, 0),
                eligible[key],
                poll.closes_at,
            )
        )
    return rows, more


def status_counts(db: Session, scope: Scope = STREET) -> dict[str, int]:
    query = select(Poll.status, func.count(Poll.id)).group_by(Poll.status)
    rows = db.execute(scoped(query, Poll.community_id, scope, street_wide=True)).all()
    return {status: int(count) for status, count in rows}
