"""`tickets file`: staff file a request for a resident who phoned, walked in or was met on
patrol (代居民登记). Registered on the `tickets` group in tickets.py's package (__init__).

Stdout is exactly one line, `#N` (the ticket filed, or found again / supported); everything
else goes to stderr. Bad input — an unknown building or openid, a bad channel or phone, an
empty text — is one line saying what is wrong (Chinese, then English) and exit status 2,
with nothing filed; a resident over the open-ticket cap is exit status 1.

Who filed it: `--by OPENID` names the staff member who took the call (an admin typing in a
paper log, say); without it the ticket is recorded as filed from the command line, the way
every other CLI change acts as the system (`tickets retopic`): the CLI has no login, and
whoever runs it holds the config, so naming a person it cannot check would be a guess.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import NoReturn

import click
from sqlalchemy import select

from models import Person
from models.intake import Intake, Outcome
from models.onbehalf import STAFF_CHANNELS, OnBehalf, OnBehalfError
from words.channels import ON_BEHALF_ERRORS

from ..classify.book import SessionBooks
from ..db import Database
from ..filing import file_on_behalf
from .classify import build_classifier
from .common import community_option, config_option, scope_of, settings_from

CLI_RECORDER = "命令行"
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 1


def _bad_input(reason: str, value: str = "") -> NoReturn:
    chinese, english = ON_BEHALF_ERRORS[reason]
    click.echo(f"error: {chinese.format(value=value)} ({english.format(value=value)})", err=True)
    sys.exit(EXIT_BAD_INPUT)


@click.command("file")
@config_option
@click.option(
    "--channel",
    required=True,
    help="How the resident reached staff: phone (电话), visit (来访) or patrol (巡查).",
)
@click.option("--phone", help="The phone the resident gave (needed for phone and visit).")
@click.option("--building", help="The building it is about (16, 16号楼 ...).")
@click.option("--as-openid", "openid", metavar="OPENID", help="The resident, if they follow.")
@click.option("--by", "by", metavar="OPENID", help="The staff member who took it down.")
@community_option
@click.argument("text")
def file_ticket(
    config_path: str | None,
    channel: str,
    phone: str | None,
    building: str | None,
    openid: str | None,
    by: str | None,
    community: str | None,
    text: str,
) -> None:
    """File TEXT for a resident; prints the ticket's number as #N."""
    # Checked before anything loads: a typo costs no database or classifier start-up.
    if channel not in STAFF_CHANNELS:
        _bad_input("bad_channel", channel)
    if not text.strip():
        _bad_input("empty_text")
    settings = settings_from(config_path)
    classifier = build_classifier(config_path, None)
    db = Database(settings)
    try:
        with db.session() as session:
            staff = None
            if by is not None:
                staff = session.scalars(select(Person).where(Person.openid == by)).one_or_none()
                if staff is None:
                    _bad_input("unknown_openid", by)
            request = OnBehalf(
                channel=channel,
                text=text,
                now=datetime.now(UTC),
                filed_by=staff.id if staff is not None else None,
                phone=phone,
                building=building,
                openid=openid,
                community_id=scope_of(session, community).community_id,
            )
            recorder = (staff.name or staff.openid) if staff is not None else CLI_RECORDER
            # Each community's rules: the ticket is classified with its community's.
            books = SessionBooks(session, classifier)
            result = file_on_behalf(session, request, settings, books, recorder=recorder)
    except OnBehalfError as exc:
        _bad_input(exc.reason, exc.value)
    finally:
        db.dispose()
    _say(result)


def _say(result: Intake) -> None:
    if result.outcome is Outcome.TOO_MANY_OPEN:
        numbers = " ".join(f"#{n}" for n in result.open_numbers)
        click.echo(
            f"error: 这位居民已有 {result.open_count} 件诉求未办结（{numbers}），未登记新诉求 "
            f"(the resident holds {result.open_count} open tickets; nothing filed)",
            err=True,
        )
        sys.exit(EXIT_REFUSED)
    notes = {
        Outcome.UNSURE: "filed in the triage queue: no topic fits (待分类)",
        Outcome.SAME_AGAIN: "the same request was filed moments ago: nothing new filed",
        Outcome.SUPPORTED: "a neighbour reported the same problem: recorded as 附议 of it",
        Outcome.SUPPORTED_AGAIN: "already recorded as 附议 of this ticket",
    }
    if result.outcome in notes:
        click.echo(f"#{result.number}: {notes[result.outcome]}", err=True)
    click.echo(f"#{result.number}")  # exactly this line: scripts read it
