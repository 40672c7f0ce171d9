"""How `poll show` prints a poll: its JSON (a contract: `poll show --json`) and its text."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import click
from sqlalchemy.orm import Session

from models.agenda import AgendaItem
from models.communities import Community
from models.paper_ballots import paper_ballots
from models.polls import DRAFT, OPEN, Poll, scope_text, tally


def local_time(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


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


def print_poll(data: dict[str, Any], tz: tzinfo) -> None:
    at = datetime.fromisoformat
    click.echo(f"#{data['number']}  {data['title']}  [{data['status']}]")
    if data["description"]:
        click.echo(data["description"])
    click.echo(
        f"opens {local_time(at(data['opens_at']), tz)}"
        f"  closes {local_time(at(data['closes_at']), tz)}"
        f"  scope {data['scope']}  per {data['unit']}  voters {data['eligibility']}"
        f"  choices {data['max_choices']}" + ("  anonymous" if data["anonymous"] else "")
    )
    if data["hide_results"] and data["status"] in (DRAFT, OPEN):
        click.echo("(results are hidden from residents until the poll closes)")
    for label, text in data["options"].items():
        click.echo(f"  {label}. {text}  {data['counts'][label]}")
    turnout = data["turnout"]
    percent = f" ({turnout:.0%})" if turnout is not None else ""
    quorum = "met" if data["quorum_met"] else "not met"
    click.echo(
        f"turnout {data['ballots']}/{data['eligible']}{percent}  "
        f"quorum {data['quorum']:.0%} {quorum}"
    )
    leaders = data["leaders"]
    if not leaders:
        leader = "leader: none"
    elif data["tie"]:
        leader = "tie: " + ", ".join(leaders)
    else:
        leader = f"leader: {leaders[0]}"
    click.echo(f"{leader}  passed: {'yes' if data['passed'] else 'no'}")
    click.echo(f"decision: {data['decision'] or '-'}")
    if data["agenda"] is not None:
        click.echo(f"agenda: #{data['agenda']}")
    for paper in data["paper_ballots"]:
        click.echo(
            f"paper ballot {paper['household']}: {paper['choices'] or '(anonymous)'}  entered by "
            f"{paper['entered_by']} {local_time(at(paper['at']), tz)}"
        )
