"""`api-key create|list|revoke`: the keys city platforms call the open API with (/api/v1).

`create` prints the new key alone on its last line (scripts read it from there): it is shown
this once, only its hash is kept. A key named by `--community NAME` sees and acts only in that
community; without it, the whole street. `list` and `revoke` with `--community` see only that
community's keys. Who made or revoked a key is recorded (`--by NAME`, else 命令行).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from models.api.key_admin import KeyRow, find_key, key_row, key_rows
from models.api.keys import SCOPES, ApiKeyError, create_key, parse_scopes, revoke

from ..db import Database
from .common import community_option, config_option, scope_of, settings_from

CLI_ACTOR = "命令行"  # created_by / revoked_by when no --by is given
SHOWN_ONCE = "新密钥只显示这一次，请立即复制保存（系统只保存它的摘要，无法再次查看）。"


def refusal(exc: ApiKeyError) -> click.ClickException:
    """An ApiKeyError as the admin reads it: what was wrong, naming the value."""
    reasons = {
        "unknown_scope": f"unknown scope {exc.value!r}: scopes are {', '.join(SCOPES)}",
        "no_scope": f"--scope names no scope: give one or more of {', '.join(SCOPES)}",
        "no_name": "--name is empty: name the key after the platform that uses it (12345平台)",
        "name_too_long": f"--name {exc.value!r} is too long (at most 64 characters)",
        "no_key": f"no API key {exc.value!r} (see `api-key list`)",
        "several": f"several keys start with that prefix ({exc.value}): name one by its id",
    }
    return click.ClickException(reasons.get(exc.reason, str(exc)))


def _by_option(func: Any) -> Any:
    return click.option(
        "--by", "by", default=CLI_ACTOR, show_default=True, help="Who does it, for the record."
    )(func)


@click.group("api-key")
def api_key() -> None:
    """API keys for city platforms (12345, grid platforms): create, list, revoke."""


@api_key.command("create")
@config_option
@click.option("--name", required=True, help="Who uses the key, e.g. 12345平台.")
@click.option(
    "--scope",
    "scopes",
    required=True,
    metavar="SCOPES",
    help=f"Comma-separated: {','.join(SCOPES)}.",
)
@community_option
@_by_option
def create(config_path: str | None, name: str, scopes: str, community: str | None, by: str) -> None:
    """Make a key; it is printed alone on the last line, this once."""
    try:
        chosen = parse_scopes(scopes)
    except ApiKeyError as exc:
        raise refusal(exc) from None
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            scope = scope_of(session, community)
            try:
                key, secret = create_key(
                    session,
                    name=name,
                    scopes=chosen,
                    community_id=scope.community_id,
                    created_by=by.strip() or CLI_ACTOR,
                    now=datetime.now(UTC),
                )
            except ApiKeyError as exc:
                raise refusal(exc) from None
            key_id = key.id
    finally:
        db.dispose()
    where = community or "街道（全部社区）"
    click.echo(f"已创建密钥 #{key_id}「{name.strip()}」：权限 {','.join(chosen)}，范围 {where}。")
    click.echo(SHOWN_ONCE)
    click.echo(secret)


def row_json(row: KeyRow) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": row.id,
        "name": row.name,
        "shown": row.shown,
        "scopes": list(row.scopes),
        "community": row.community,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
        "last_used_at": iso(row.last_used_at),
        "revoked_at": iso(row.revoked_at),
        "revoked_by": row.revoked_by,
    }


def row_line(row: KeyRow, tz: ZoneInfo) -> str:
    def local(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "never"

    state = f"revoked {local(row.revoked_at)} by {row.revoked_by}" if row.revoked else "active"
    return (
        f"#{row.id}  {row.shown}…  {row.name}  {','.join(row.scopes)}  "
        f"{row.community or '街道'}  created {local(row.created_at)} by {row.created_by}  "
        f"last used {local(row.last_used_at)}  {state}"
    )


@api_key.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@community_option
def list_keys(config_path: str | None, as_json: bool, community: str | None) -> None:
    """The keys, newest first: id, shown prefix, name, scopes, community, created, last used,
    revoked. With --community: that community's keys only."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            rows = key_rows(session, scope_of(session, community))
    finally:
        db.dispose()
    if not rows and not as_json:
        click.echo("no API keys yet: yishiting api-key create --name NAME --scope SCOPES")
    for row in rows:
        click.echo(
            json.dumps(row_json(row), ensure_ascii=False) if as_json else row_line(row, settings.tz)
        )


@api_key.command("revoke")
@config_option
@click.argument("ref", metavar="ID_OR_PREFIX")
@community_option
@_by_option
def revoke_key(config_path: str | None, ref: str, community: str | None, by: str) -> None:
    """Revoke a key, named by its id or the prefix `list` shows; its requests are refused from
    now on (401), its audit stays."""
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            try:
                key = find_key(session, ref, scope_of(session, community))
            except ApiKeyError as exc:
                raise refusal(exc) from None
            done = revoke(session, key, by=by.strip() or CLI_ACTOR, now=datetime.now(UTC))
            row = key_row(session, key)
    finally:
        db.dispose()
    if not done:
        click.echo(f"#{row.id} {row.shown}… ({row.name}) was already revoked")
        return
    click.echo(f"revoked: #{row.id} {row.shown}… ({row.name}); requests with it now get 401")
