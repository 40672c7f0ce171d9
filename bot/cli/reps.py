"""`people reps add|remove|list`: the residents' representatives (议事代表) admins keep.

A person is named by their openid, a phone number they gave when binding, or their household
address (16-2-501) when exactly one person is bound there (models/meeting_reps.py); a name
that fits nobody, or several people, is refused with the reason. `--community NAME` keeps the
list of that community (its residents only); without it, the street's whole list.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from models.meeting_reps import RepError, add_rep, find_person, list_reps, remove_rep

from ..db import Database
from .common import community_option, config_option, scope_of, settings_from

WHO = "WHO"  # openid, phone, or household address


def _refused(exc: RepError) -> click.ClickException:
    if exc.reason == "several":
        return click.ClickException(
            f"{exc.who!r} fits {exc.count} people: name one by openid (or by phone)"
        )
    if exc.reason == "bad":
        return click.ClickException("name a person by openid, phone or address (16-2-501)")
    return click.ClickException(
        f"no resident found as {exc.who!r} (an openid, a bound resident's phone, or an "
        "address like 16-2-501 with one approved resident)"
    )


@click.group()
def people() -> None:
    """People: the residents' representatives (议事代表)."""


@people.group()
def reps() -> None:
    """议事代表: who `meeting create --invite reps` invites."""


@reps.command("add")
@config_option
@click.argument("who", metavar=WHO)
@community_option
def add(config_path: str | None, who: str, community: str | None) -> None:
    """List WHO (openid, phone or address) as a representative."""
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            scope = scope_of(session, community)
            try:
                person_id = find_person(session, who, scope.community_id)
            except RepError as exc:
                raise _refused(exc) from None
            added = add_rep(session, person_id, scope.community_id, "cli", datetime.now(UTC))
    finally:
        db.dispose()
    click.echo(f"added: {who}" if added else f"{who} is a representative already")


@reps.command("remove")
@config_option
@click.argument("who", metavar=WHO)
@community_option
def remove(config_path: str | None, who: str, community: str | None) -> None:
    """Take WHO off the list."""
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            scope = scope_of(session, community)
            try:
                person_id = find_person(session, who, scope.community_id)
            except RepError as exc:
                raise _refused(exc) from None
            removed = remove_rep(session, person_id, scope.community_id)
    finally:
        db.dispose()
    if not removed:
        raise click.ClickException(f"{who} is not a representative")
    click.echo(f"removed: {who}")


@reps.command("list")
@config_option
@community_option
def list_(config_path: str | None, community: str | None) -> None:
    """The representatives: who, community, added by, when."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            rows = list_reps(session, scope_of(session, community).community_id)
    finally:
        db.dispose()
    if not rows:
        click.echo("no representatives yet: yishiting people reps add WHO")
    for row in rows:
        added = row.added_at.astimezone(settings.tz).strftime("%Y-%m-%d")
        click.echo(f"{row.who}  {row.community or '街道'}  added {added} by {row.added_by or '-'}")
