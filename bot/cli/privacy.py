"""`residents export OPENID` and `residents erase OPENID`: a resident's rights under PIPL
(access, erasure). Both are recorded in `privacy_audit` (who, when, what, how many rows)."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime

import click

from models.people import Person
from models.privacy import PrivacyError, audit, erase_person, person_by_openid
from models.privacy_export import export_person

from ..db import Database
from ..media.store import MediaStore, media_folder
from .common import config_option, settings_from


def _actor_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--actor",
        default=None,
        help="Who asks, for the audit record (default: the operating-system user).",
    )(func)


def _actor(given: str | None) -> str:
    if given and given.strip():
        return given.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name (a container without /etc/passwd entry)
        return "unknown"


def _found(person: Person | None, openid: str) -> Person:
    if person is None:
        raise click.ClickException(f"no one with openid {openid} has written to the account")
    return person


@click.command("export")
@config_option
@_actor_option
@click.argument("openid")
def export(config_path: str | None, actor: str | None, openid: str) -> None:
    """Everything held about OPENID, as JSON on stdout (their right of access)."""
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            person = _found(person_by_openid(session, openid), openid)
            now = datetime.now(UTC)
            data = export_person(session, person, now)
            counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
            audit(session, "export", _actor(actor), now, person.id, counts)
    finally:
        db.dispose()
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.command("erase")
@config_option
@_actor_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.argument("openid")
def erase(config_path: str | None, actor: str | None, yes: bool, openid: str) -> None:
    """Delete or anonymise everything held about OPENID (their right of erasure); the
    committee's counts (tickets, ratings, ballots) stay, anonymous."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            _found(person_by_openid(session, openid), openid)
        if not yes:  # asked before the write transaction: never hold the database waiting
            click.confirm(f"Erase the data of {openid}? This cannot be undone", abort=True)
        with db.session() as session:
            person = _found(person_by_openid(session, openid), openid)
            erased = erase_person(session, person, _actor(actor), datetime.now(UTC))
        # Committed: now the downloaded photos and voices go too (a crash in between leaves
        # files no row names, which the daily housekeeping deletes).
        MediaStore(media_folder(settings)).delete(erased.files)
    except PrivacyError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(erased.counts.items()) if v)
    click.echo(f"erased: {openid} is now {erased.openid} ({counts or 'nothing else held'})")
