"""`agenda assign|progress|complete`: 落实 from the command line (an admin's tools).

`assign N --owner NAME --due DATE` names the staff member who carries out #N's decision (or,
with `--answerable STAFF`, an outside party such as 物业公司 and the staff member answerable
for it); `progress N TEXT` and `complete N RESULT` do what `进展` and `完成` do by chat. The
same operations as the chat and the console (models/carrying.py); `--community` works as
everywhere: another community's item is "no 议题 #N", a street-wide one is the street's to
change. What happened goes to stdout as one line; a refusal is the reason, exit status 1.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from models.agenda import AgendaError
from models.carrying import assign, complete, parse_due, report_progress

from ..db import Database
from .agenda import item_for
from .common import community_option, config_option, settings_from

REFUSALS = {
    "stage": "#{number} is {stage}: {why}",
    "publicity_open": "#{number}'s publicity (公示) is still open{until}: assign it once the "
    "period is over",
    "objections": "#{number} had objections during its publicity (公示): confirm the decision "
    "first",
    "owner_missing": "name the owner (--owner)",
    "owner_unknown": "no staff member named {name!r} works in #{number}'s community or for the "
    "street (see `staff list`)",
    "owner_ambiguous": "{count} staff members are named {name!r}: rename one (staff add) first",
    "party_long": "the outside party's name is longer than {limit} characters",
    "due_past": "the due date has passed: give a later one",
    "text_missing": "the text is empty",
    "text_long": "the text is longer than {limit} characters",
}
STAGE_WHY = {
    "assign": "only a publicised decision (or one being carried out) is assigned",
    "progress": "progress is reported while it is being carried out",
    "complete": "only an item being carried out is completed",
}


def refusal(exc: AgendaError, number: int, act: str) -> click.ClickException:
    details = {"number": number, "stage": "", **exc.details}
    until = details.pop("until", None)
    details["until"] = f" until {until:%Y-%m-%d %H:%M} UTC" if until is not None else ""
    details["why"] = STAGE_WHY[act]
    template = REFUSALS.get(exc.reason, "{reason}")
    return click.ClickException(template.format(reason=exc.reason, **details))


@click.command("assign")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.option("--owner", required=True, metavar="NAME", help="Staff member, or outside party.")
@click.option("--due", required=True, metavar="DATE", help="2026-12-20 (end of day) or a time.")
@click.option("--answerable", metavar="STAFF", help="The staff member answerable for a party.")
@community_option
def assign_command(
    config_path: str | None,
    number: int,
    owner: str,
    due: str,
    answerable: str | None,
    community: str | None,
) -> None:
    """落实: OWNER carries out #NUMBER's decision by DATE (again: a new owner or date)."""
    settings = settings_from(config_path)
    due_at = parse_due(due, settings.tz)
    if due_at is None:
        raise click.BadParameter(f"{due!r} is not a date (e.g. 2026-12-20)", param_hint="--due")
    db = Database(settings)
    try:
        with db.session() as session:
            item = item_for(session, number, community, changing=True)
            try:
                done = assign(
                    session, item, datetime.now(UTC), owner=owner, due_at=due_at,
                    answerable=answerable, tz=settings.tz,
                )  # fmt: skip
            except AgendaError as exc:
                raise refusal(exc, number, "assign") from None
    finally:
        db.dispose()
    who = f"{done.party} ({done.staff_name} answerable)" if done.party else done.staff_name
    again = "reassigned" if done.reassigned else "assigned"
    local = due_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
    click.echo(f"#{number} {again} to {who}, due {local}")


@click.command("progress")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.argument("text")
@community_option
def progress_command(
    config_path: str | None, number: int, text: str, community: str | None
) -> None:
    """进展: record TEXT (as written) on #NUMBER and tell its proposer, backers and voters."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session() as session:
            item = item_for(session, number, community, changing=True)
            try:
                told = report_progress(session, item, text, datetime.now(UTC))
            except AgendaError as exc:
                raise refusal(exc, number, "progress") from None
    finally:
        db.dispose()
    click.echo(f"#{number} progress recorded, {told} residents told")


@click.command("complete")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.argument("result")
@community_option
def complete_command(
    config_path: str | None, number: int, result: str, community: str | None
) -> None:
    """完成: #NUMBER is carried out with RESULT; those who took part are asked to rate it."""
    settings = settings_from(config_path)
    days = settings.deliberation.review_days
    db = Database(settings)
    try:
        with db.session() as session:
            item = item_for(session, number, community, changing=True)
            try:
                asked = complete(session, item, result, datetime.now(UTC), review_days=days)
            except AgendaError as exc:
                raise refusal(exc, number, "complete") from None
    finally:
        db.dispose()
    click.echo(f"#{number} done: {asked} residents asked to rate it, review in {days:g} days")


def register(group: click.Group) -> None:
    """Add the 落实 commands to `yishiting agenda`."""
    for command in (assign_command, progress_command, complete_command):
        group.add_command(command)
