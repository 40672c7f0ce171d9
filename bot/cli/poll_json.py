"""How `poll show` prints a poll: its JSON (models/poll_json.py, the contract of `poll show
--json`) and its text."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import click

from models.polls import DRAFT, OPEN


def local_time(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


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
