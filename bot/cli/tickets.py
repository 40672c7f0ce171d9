"""`tickets show|retopic|export`: tickets from the command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from models import Ticket, confirmed_tickets, set_topic, ticket_by_number, topic_by_name

from ..db import Database
from .common import config_option, settings_from


@click.group()
def tickets() -> None:
    """Tickets (诉求): show one, set its topic, export the confirmed ones."""


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "status": ticket.status,
        "topic": ticket.topic.name if ticket.topic is not None else None,
        "topic_confirmed": ticket.topic_confirmed,
        "score": ticket.score,
        "unsure": ticket.unsure,
        "text": ticket.text,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "attachments": [
            {"kind": a.kind, **json.loads(a.data), "created_at": a.created_at.isoformat()}
            for a in ticket.attachments
        ],
    }


@tickets.command("show")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(config_path: str | None, number: int, as_json: bool) -> None:
    """Show ticket #NUMBER."""
    db = Database(settings_from(config_path))
    with db.session(read_only=True) as session:
        ticket = ticket_by_number(session, number)
        data = ticket_json(ticket) if ticket is not None else None
    db.dispose()
    if data is None:
        raise click.ClickException(f"no ticket #{number}")
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"#{data['number']}  {data['topic'] or '(triage)'}  {data['status']}")
    click.echo(f"created {data['created_at']}  confirmed topic: {data['topic_confirmed']}")
    click.echo(data["text"])


@tickets.command("retopic")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.argument("topic")
def retopic(config_path: str | None, number: int, topic: str) -> None:
    """Put ticket #NUMBER under TOPIC and mark the topic confirmed (labeled data)."""
    db = Database(settings_from(config_path))
    with db.session() as session:
        ticket = ticket_by_number(session, number)
        if ticket is None:
            raise click.ClickException(f"no ticket #{number}")
        found = topic_by_name(session, topic)
        if found is None:
            raise click.ClickException(f"no topic named {topic!r}")
        set_topic(session, ticket, found, confirmed=True, now=datetime.now(UTC))
    db.dispose()
    click.echo(f"#{number} → {topic} (confirmed)")


@tickets.command("export")
@config_option
@click.option(
    "--confirmed",
    is_flag=True,
    required=True,
    help="Only tickets whose topic a person set or kept (the labeled data).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-")
def export(config_path: str | None, confirmed: bool, output: str) -> None:
    """Write {"number","text","label"} JSON lines, for `rules suggest` and `rules backtest`."""
    db = Database(settings_from(config_path))
    with db.session(read_only=True) as session:
        lines = [
            json.dumps(
                {"number": t.number, "text": t.text, "label": t.topic.name if t.topic else None},
                ensure_ascii=False,
            )
            for t in confirmed_tickets(session)
        ]
    db.dispose()
    text = "".join(line + "\n" for line in lines)
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(lines)} ticket(s) to {output}", err=True)
