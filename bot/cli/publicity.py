"""表决 · 公示 · 异议 from the command line: `poll ballot` (a household's paper ballot) and
`agenda publish|withdraw|confirm`.

The CLI has no login: what these commands write in a timeline names "命令行" as the actor, and
a paper ballot names the staff member who entered it (`--by`, required: the audit must say
who). With `--community C` they act as that community's admin would (scope_of).
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from handlers.people import parse_address
from models.agenda import AgendaError
from models.paper_ballots import enter_paper_ballot, find_household
from models.polls import PollError, poll_by_number
from models.publicity import confirm, publish, withdraw

from ..db import Database
from .agenda import item_for
from .common import community_option, config_option, row_in_scope, scope_of, settings_from

ACTOR = "命令行"

# AgendaError reasons, as an admin at the command line reads them.
REFUSALS = {
    "stage": "#{number} is {stage}: that step is not allowed now",
    "community": "#{number}: the poll must be for the item's community (a street-wide item: "
    "a street-wide poll)",
    "days": "--days must be more than 0 and at most {max}",
    "no_decision": "#{number} has no decision to publish: give --decision TEXT, record the "
    "decision of its poll (poll decide), or the outcome in a meeting's minutes",
    "no_reason": "give the reason",
    "confirmed": "#{number} was confirmed already",
    "not_publicised": "#{number} is not in publicity (公示)",
    "period_running": "#{number}: the objection period runs until {until}; confirm after it",
}


def agenda_refusal(exc: AgendaError) -> click.ClickException:
    details = {"stage": "", "until": "", **exc.details}
    until = details.get("until")
    if isinstance(until, datetime):
        details["until"] = until.isoformat(timespec="minutes")
    template = REFUSALS.get(exc.reason, exc.reason)
    return click.ClickException(f"{template.format(**details)} ({exc.reason})")


# -- poll ballot ------------------------------------------------------------------------------


@click.command("ballot")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.option(
    "--household",
    required=True,
    metavar="ADDRESS",
    help="The household as residents write it for 绑定, e.g. 16-2-501.",
)
@click.option("--choice", required=True, help="The option letter(s), e.g. A or AC.")
@click.option(
    "--by", "by", default=ACTOR, metavar="NAME", help="Who entered it (the audit; default 命令行)."
)
@community_option
def ballot(
    config_path: str | None,
    number: int,
    household: str,
    choice: str,
    by: str,
    community: str | None,
) -> None:
    """Record the paper (or in-person) ballot of a household in household poll #NUMBER.
    It counts once per household: it replaces the household's earlier ballot, and a later
    WeChat ballot from the household replaces it."""
    address = parse_address(household)
    if isinstance(address, str):
        raise click.ClickException(f"--household {household!r}: write it like 16-2-501")
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session() as session:
            scope = scope_of(session, community)
            # A street-wide poll takes a community's ballots (its households, within it).
            poll = poll_by_number(session, number)
            found = row_in_scope(scope, poll, f"poll #{number}", changing=False)
            try:
                home = find_household(
                    session, found, address.building, address.unit, address.room, scope.community_id
                )
                entered = enter_paper_ballot(session, found, home, choice, by, datetime.now(UTC))
            except PollError as exc:
                message = exc.details.get("message")
                raise click.ClickException(
                    f"{message} ({exc.reason})" if message else exc.reason
                ) from None
            label, choices, replaced = home.label, entered.choices, entered.replaced
    finally:
        db.dispose()
    click.echo(f"#{number} {label}: {choices} (paper, entered by {by.strip()})")
    if replaced:
        click.echo(f"poll #{number}: replaced the household's earlier ballot", err=True)


# -- agenda publish | withdraw | confirm ------------------------------------------------------


@click.command("publish")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.option(
    "--days",
    type=float,
    help="The objection period in days (default: [deliberation] publicity_days).",
)
@click.option("--decision", help="The decision as written (default: the poll's, or the minutes').")
@community_option
def publish_cmd(
    config_path: str | None,
    number: int,
    days: float | None,
    decision: str | None,
    community: str | None,
) -> None:
    """公示: publish item #NUMBER's decision; everyone in scope is pushed with the public page."""
    settings = settings_from(config_path)
    period = days if days is not None else settings.deliberation.publicity_days
    db = Database(settings)
    try:
        with db.session() as session:
            item = item_for(session, number, community, changing=True)
            try:
                done = publish(
                    session,
                    item,
                    datetime.now(UTC),
                    period,
                    settings.app.public_url,
                    decision,
                    actor=ACTOR,
                    tz=settings.tz,
                )
            except AgendaError as exc:
                raise agenda_refusal(exc) from None
            assert item.objections_until is not None
            until = item.objections_until.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
            token, text, told = item.public_token, item.decision, done.told
    finally:
        db.dispose()
    base = settings.app.public_url.rstrip("/")
    click.echo(f"#{number} publicised until {until}: {text}")
    click.echo(f"public page: {base}/p/{token}")
    click.echo(f"agenda #{number}: {told} residents in scope pushed", err=True)


@click.command("withdraw")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.argument("reason")
@community_option
def withdraw_cmd(config_path: str | None, number: int, reason: str, community: str | None) -> None:
    """Withdraw item #NUMBER (its published decision) with REASON; those told are told."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session() as session:
            item = item_for(session, number, community, changing=True)
            try:
                told = withdraw(session, item, reason, datetime.now(UTC), actor=ACTOR)
            except AgendaError as exc:
                raise agenda_refusal(exc) from None
    finally:
        db.dispose()
    click.echo(f"#{number} withdrawn: {reason.strip()}")
    click.echo(f"agenda #{number}: {told} people told", err=True)


@click.command("confirm")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@community_option
def confirm_cmd(config_path: str | None, number: int, community: str | None) -> None:
    """Confirm item #NUMBER's decision once its objection period is over."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session() as session:
            item = item_for(session, number, community, changing=True)
            try:
                confirm(session, item, datetime.now(UTC), actor=ACTOR)
            except AgendaError as exc:
                raise agenda_refusal(exc) from None
    finally:
        db.dispose()
    click.echo(f"#{number} confirmed")


def register(agenda: click.Group, poll: click.Group) -> None:
    """Add these commands to the `agenda` and `poll` groups (bot/cli/__init__.py)."""
    agenda.add_command(publish_cmd)
    agenda.add_command(withdraw_cmd)
    agenda.add_command(confirm_cmd)
    poll.add_command(ballot)
