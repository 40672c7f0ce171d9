"""`menu push` and `menu show`: the custom menu (自定义菜单) on WeChat.

The menu is `[[menu]]` in the config, or (without one) the default built from the entries
the handlers answer (words/menu.py), so a tap never meets "unknown command".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from ..config import Settings
from ..config.menu import Button
from ..db import Database
from ..menu import from_wechat, menu_of, outline, payload
from ..wechat.api import Api, ApiFailure, HttpJson, fetch_wechat_token
from ..wechat.errors import explain
from ..wechat.tokens import SharedToken
from .common import config_option, settings_from

CREATE = "cgi-bin/menu/create"
CURRENT = "cgi-bin/get_current_selfmenu_info"
NO_SECRET = (
    "no [wechat] app_secret: the menu is published through WeChat's API, which needs "
    "app_id and app_secret (公众号后台 → 设置与开发 → 基本配置)"
)


@click.group()
def menu() -> None:
    """The custom menu (自定义菜单): publish it to WeChat, show it."""


@menu.command("push")
@config_option
def push(config_path: str | None) -> None:
    """Publish the menu ([[menu]], or the default one) to WeChat and print what was sent."""
    settings = settings_from(config_path)
    if settings.console_pushes:
        raise click.ClickException(NO_SECRET)
    buttons = menu_of(settings)
    _call(settings, lambda api: api.post(CREATE, payload(buttons)))
    click.echo(f"published {_source(settings)} to WeChat:")
    click.echo("\n".join(outline(buttons)))
    click.echo("phones show the new menu within about 5 minutes (or after following again)")


@menu.command("show")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def show(config_path: str | None, as_json: bool) -> None:
    """The menu configured here and, with an app secret, the one WeChat has now."""
    settings = settings_from(config_path)
    local = menu_of(settings)
    remote: tuple[Button, ...] | None = None
    problem: str | None = None
    if not settings.console_pushes:
        try:
            remote = from_wechat(_call(settings, lambda api: api.get(CURRENT)))
        except click.ClickException as exc:
            problem = exc.message
    if as_json:
        click.echo(json.dumps(_as_json(settings, local, remote, problem), ensure_ascii=False))
    else:
        _print(settings, local, remote, problem)
    if problem:
        raise SystemExit(1)


def _print(
    settings: Settings,
    local: tuple[Button, ...],
    remote: tuple[Button, ...] | None,
    problem: str | None,
) -> None:
    click.echo(f"configured here ({_source(settings)}):")
    click.echo("\n".join(outline(local)))
    if settings.console_pushes:
        click.echo("on WeChat: not asked (no [wechat] app_secret)")
    elif problem:
        click.echo(f"on WeChat: could not ask — {problem}")
    elif not remote:
        click.echo("on WeChat: no menu yet — publish it with `yishiting menu push`")
    else:
        same = payload(remote) == payload(local)
        click.echo("on WeChat now:" + (" (the same)" if same else ""))
        click.echo("\n".join(outline(remote)))
        if not same:
            click.echo("it differs from the configured menu: `yishiting menu push` publishes it")


def _as_json(
    settings: Settings,
    local: tuple[Button, ...],
    remote: tuple[Button, ...] | None,
    problem: str | None,
) -> dict[str, Any]:
    wechat: dict[str, Any] | None = None
    if problem:
        wechat = {"error": problem}
    elif remote is not None:
        wechat = {**payload(remote), "same": payload(remote) == payload(local)}
    return {
        "source": "config" if settings.menu else "default",
        "configured": payload(local),
        "wechat": wechat,
    }


def _source(settings: Settings) -> str:
    return "the menu from [[menu]]" if settings.menu else "the default menu (words/menu.py)"


def _call(settings: Settings, action: Any) -> dict[str, Any]:
    """Run `action(api)` with the shared access token; a WeChat error becomes one line."""
    wechat = settings.wechat
    db = Database(settings)
    http = HttpJson(wechat.api_base_url, settings.delivery.timeout_seconds)
    token = SharedToken(
        db,
        "wechat",
        lambda force: fetch_wechat_token(http, wechat.app_id, wechat.app_secret, force),
        lambda: datetime.now(UTC),
    )
    try:
        answer: dict[str, Any] = action(Api(http, token))
        return answer
    except ApiFailure as exc:
        raise click.ClickException(explain(exc)) from None
    except SQLAlchemyError as exc:
        reason = str(exc).splitlines()[0]
        raise click.ClickException(
            f"database: {reason} — the shared access token lives there; run `yishiting init`"
        ) from None
    finally:
        http.close()
        db.dispose()
