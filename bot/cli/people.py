"""`places import|list`, `residents approve|reject|pending` (the `staff` commands: staff.py).

`--community NAME` scopes each: a row of another community is "not found"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Binding, Person
from models.communities import STREET, Scope, community_names
from models.places import (
    BindingError,
    NoBinding,
    approve_binding,
    mask_openid,
    mask_phone,
    pending_bindings,
    reject_binding,
)
from models.placesfile import (
    PlacesFileError,
    import_places,
    landmarks_overview,
    parse_places,
    places_overview,
)

from ..db import Database
from . import privacy
from .common import community_option, config_option, scope_of, settings_from


class _DryRun(Exception):
    """Raised inside a session to roll back what a dry run did."""


# -- places ---------------------------------------------------------------------------------


@click.group()
def places() -> None:
    """Places (网格、楼栋、户): import them from a file, list them."""


@places.command("import")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@click.option(
    "--community",
    metavar="NAME",
    help="The community (社区) the file's places belong to (default: a row's community "
    "column, else the first community).",
)
def import_file(config_path: str | None, file: str, dry_run: bool, community: str | None) -> None:
    """Make the grids, buildings and households in FILE (TOML) as written there."""
    try:
        spec = parse_places(Path(file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read: {exc}") from None
    except PlacesFileError as exc:
        raise _refused(file, exc) from None
    db = Database(settings_from(config_path))
    changes: list[str] = []
    try:
        with db.session() as session:
            scope = _into(session, community)
            changes = import_places(session, spec, datetime.now(UTC), scope.community_id)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except PlacesFileError as exc:
        raise _refused(file, exc) from None
    finally:
        db.dispose()
    for change in changes:
        click.echo(change)
    verb = "would change" if dry_run else "changed"
    click.echo(f"{len(changes)} change(s) {verb}" if changes else "no changes: up to date")


def _into(session: Session, community: str | None) -> Scope:
    """The community `--community` names for an import; the reason when it does not exist."""
    try:
        return scope_of(session, community)
    except click.ClickException:
        raise click.ClickException(
            f"no community named {community!r}: add it first with "
            f"`yishiting community add --config C {community}` (nothing imported)"
        ) from None


def _refused(file: str, exc: PlacesFileError) -> click.ClickException:
    where = f"{file}:{exc.line}" if exc.line else file
    return click.ClickException(f"{where}: {exc.reason} (nothing imported)")


@places.command("list")
@config_option
@community_option
def list_places(config_path: str | None, community: str | None) -> None:
    """Every grid with its worker and buildings, and the households known in each."""
    db = Database(settings_from(config_path))
    try:
        with db.session(read_only=True) as session:
            scope = scope_of(session, community)
            grids = places_overview(session, scope.community_id)
            landmarks = landmarks_overview(session, scope.community_id)
            several = len(community_names(session)) > 1
    finally:
        db.dispose()
    if not grids and not landmarks:
        click.echo("no places yet: yishiting places import FILE")
    shown: str | None = None
    for grid in grids:
        if several and grid.community != shown:  # one community: no headings, as always
            click.echo(f"[{grid.community}]")
            shown = grid.community
        households = sum(count for _, count in grid.buildings)
        title = grid.name if grid.name is not None else "(no grid)"
        click.echo(f"{title}  worker: {grid.worker or '-'}  households: {households}")
        at = grid.coordinates or (None,) * len(grid.buildings)
        for (building, count), where in zip(grid.buildings, at, strict=True):
            located = f"  at {where[0]:.6f},{where[1]:.6f}" if where else ""
            click.echo(f"  {building}: {count} household(s){located}")
    shown = None
    for landmark in landmarks:
        if several and landmark.community != shown:
            click.echo(f"[{landmark.community}] places")
            shown = landmark.community
        elif not several and shown is None:
            click.echo("places")
            shown = landmark.community
        parts = [f"aliases: {'、'.join(landmark.aliases)}"] if landmark.aliases else []
        if landmark.building:
            parts.append(f"building {landmark.building}")
        if landmark.grid:
            parts.append(f"grid {landmark.grid}")
        if landmark.at:
            parts.append(f"at {landmark.at[0]:.6f},{landmark.at[1]:.6f}")
        click.echo(f"  {landmark.name}  {'  '.join(parts)}".rstrip())


# -- residents ------------------------------------------------------------------------------


@click.group()
def residents() -> None:
    """Residents: bindings to households (approve, reject, pending); export and erase a
    person's data."""


@residents.command("approve")
@config_option
@community_option
@click.argument("openid")
def approve(config_path: str | None, community: str | None, openid: str) -> None:
    """Approve the pending binding of OPENID (the resident is told)."""
    place = _decide(config_path, community, openid, approve=True)
    click.echo(f"approved: {mask_openid(openid)} lives at {place}")


@residents.command("reject")
@config_option
@community_option
@click.argument("openid")
def reject(config_path: str | None, community: str | None, openid: str) -> None:
    """Turn down the pending binding of OPENID (it is removed)."""
    place = _decide(config_path, community, openid, approve=False)
    click.echo(f"rejected: {mask_openid(openid)} at {place}")


def _decide(config_path: str | None, community: str | None, openid: str, *, approve: bool) -> str:
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            scope = scope_of(session, community)
            person = _person(session, openid)
            if not _binding_in(session, person.id, scope):
                raise NoBinding(openid)  # another community's binding: not found
            now = datetime.now(UTC)
            if approve:
                return approve_binding(session, person.id, "cli", now).household.label
            return reject_binding(session, person.id, "cli", now)
    except NoBinding:
        raise click.ClickException(f"{openid} has asked for no binding") from None
    except BindingError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()


@residents.command("pending")
@config_option
@community_option
def pending(config_path: str | None, community: str | None) -> None:
    """The bindings waiting for approval, oldest first."""
    settings = settings_from(config_path)
    db = Database(settings)
    with db.session(read_only=True) as session:
        scope = scope_of(session, community)
        rows = [
            (
                mask_openid(person.openid),
                binding.household.label,
                mask_phone(binding.phone) or "-",
                binding.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"),
            )
            for binding, person in pending_bindings(session, community_id=scope.community_id)
        ]
    db.dispose()
    if not rows:
        click.echo("no pending bindings")
    for tag, place, phone, since in rows:
        click.echo(f"{tag}  {place}  phone {phone}  since {since}")


residents.add_command(privacy.export)
residents.add_command(privacy.erase)


def _binding_in(session: Session, person_id: int, scope: Scope) -> bool:
    """True when the person's binding (if any) is for a household within `scope`."""
    if scope == STREET:
        return True
    binding = session.scalars(select(Binding).where(Binding.person_id == person_id)).first()
    return binding is not None and scope.owns(binding.household.building.community_id)


def _person(session: Session, openid: str) -> Person:
    person = session.scalars(select(Person).where(Person.openid == openid)).one_or_none()
    if person is None:
        raise click.ClickException(f"no one with openid {openid} has written to the account")
    return person
