"""`staff remove OPENID --to OTHER`: a staff member leaves; a colleague takes over their work.

Its own module (registered on the `staff` group in people.py) to keep people.py short.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Person
from models.staff import StaffError
from models.staff_removal import Removal, remove_staff

from ..db import Database
from .common import config_option, settings_from


@click.command("remove")
@config_option
@click.argument("openid")
@click.option("--to", "successor", required=True, metavar="OPENID", help="Who takes over.")
def remove(config_path: str | None, openid: str, successor: str) -> None:
    """OPENID leaves: their open tickets, grids and topics go to the staff member --to.

    Each resident whose ticket moves is told who has it now; the successor is pushed each
    ticket. OPENID becomes a resident again; their name stays on the tickets' history.
    """
    if openid == successor:
        raise click.UsageError("--to must be someone else than OPENID")
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session() as session:
            ids = _ids(session, openid, successor)
            removal = remove_staff(session, *ids, datetime.now(UTC), settings.tz)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    _report(removal)


def _ids(session: Session, openid: str, successor: str) -> tuple[int, int]:
    found = dict(
        session.execute(
            select(Person.openid, Person.id).where(Person.openid.in_((openid, successor)))
        ).all()
    )
    unknown = [o for o in (openid, successor) if o not in found]
    if unknown:
        raise click.ClickException(f"no one with openid {', '.join(unknown)} is known")
    return found[openid], found[successor]


def _report(removal: Removal) -> None:
    to = removal.successor
    for number in removal.tickets:
        click.echo(f"ticket #{number} → {to} (resident told, {to} pushed)")
    for grid in removal.grids:
        click.echo(f"grid {grid} → {to}")
    for topic in removal.topics:
        click.echo(f"topic {topic} → {to}")
    for username, role in removal.accounts:
        click.echo(
            f"console account {username} unlinked from {removal.name}; it still signs in as "
            f"{role}: change its role or password in 管理后台 → 账号 if it should not"
        )
    click.echo(
        f"{removal.name} is a resident now: {len(removal.tickets)} open ticket(s), "
        f"{len(removal.grids)} grid(s), {len(removal.topics)} topic(s) moved to {to}"
    )
