"""`inbound list [--failed] [--json]`: the messages residents sent, newest first; with
`--failed`, those whose handling failed (retry them in the console's 失败消息 page)."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select

from models import InboundMessage
from models.communities import Scope
from models.inbound import failed_messages
from models.places import mask_openid
from models.scoping import by_person

from ..db import Database
from .common import community_option, config_option, scope_of, settings_from


@click.group()
def inbound() -> None:
    """Messages residents sent (WeChat's deliveries, as stored)."""


@inbound.command("list")
@config_option
@click.option("--failed", is_flag=True, help="Only messages whose handling failed.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON array (UTF-8) on stdout.")
@community_option
def list_messages(
    config_path: str | None, failed: bool, limit: int, as_json: bool, community: str | None
) -> None:
    """Time, sender (masked), kind, status and error class of each message."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            # With --community: the messages of that community's people only.
            community_id = scope_of(session, community).community_id
            if failed:
                rows = failed_messages(session, limit, community_id)
            else:
                query = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(limit)
                query = by_person(query, InboundMessage.person_id, Scope(community_id))
                rows = list(session.scalars(query))
            items = [_item(row) for row in rows]
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False))
        return
    if not items:
        click.echo("没有处理失败的消息。" if failed else "还没有收到消息。", err=True)
    for item in items:
        error = f"  {item['error']}" if item["error"] else ""
        click.echo(
            f"#{item['id']}  {item['received_at']}  {item['sender']}  {item['kind']}"
            f"  {item['status']}{error}"
        )


def _item(row: InboundMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "received_at": row.received_at.isoformat(timespec="seconds"),
        "sender": mask_openid(row.openid),
        "kind": row.kind,
        "status": row.status,
        "error": row.error,
    }
