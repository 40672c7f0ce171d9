"""`yishiting community`: the street's communities (社区)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from models.communities import CommunityError, add_community
from models.places import community_counts

from ..db import Database
from .common import config_option, settings_from


@click.group()
def community() -> None:
    """The communities (社区) this deployment's street office runs."""


@community.command("add")
@config_option
@click.argument("name")
def add(config_path: str | None, name: str) -> None:
    """Add the community NAME (nothing happens when it exists already)."""
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            try:
                found, created = add_community(session, name, datetime.now(UTC))
            except CommunityError as exc:
                raise click.ClickException(str(exc)) from None
            said = found.name
    finally:
        db.dispose()
    click.echo(f"community {said}: {'added' if created else 'exists already'}")


@community.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def list_communities(config_path: str | None, as_json: bool) -> None:
    """Each community with its grids, buildings and households."""
    db = Database(settings_from(config_path))
    try:
        with db.session(read_only=True) as session:
            rows = community_counts(session)
    finally:
        db.dispose()
    for row in rows:
        data = {
            "name": row.name,
            "grids": row.grids,
            "buildings": row.buildings,
            "households": row.households,
        }
        if as_json:
            click.echo(json.dumps(data, ensure_ascii=False))
        else:
            click.echo(f"{row.name}  网格 {row.grids}  楼栋 {row.buildings}  户 {row.households}")
