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

from ..config import Account, Settings
from ..config.menu import Button
from ..db import Database
from ..menu import account_menu, from_wechat, outline, payload
from ..wechat.api import Api, ApiFailure, HttpJson, fetch_wechat_token
from ..wechat.errors import explain
from ..wechat.tokens import SharedToken
from .common import account_option, choose_account, config_option, settings_from

CREATE = "cgi-bin/menu/create"
CURRENT = "cgi-bin/get_current_selfmenu_info"
NO_SECRET = (
    "no {account} app_secret: the menu is published through WeChat's API, which needs "
    "app_id and app_secret (公众号后台 → 设置与开发 → 基本配置)"
)


@click.group()
def menu() -> None:
    """The custom menu (自定义菜单): publish it to WeChat, show it."""


@menu.command("push")
@config_option
@account_option
def push(config_path: str | None, account_name: str | None) -> None:
    """Publish the menu ([[menu]], or the default one) to WeChat and print what was sent."""
    settings = settings_from(config_path)
    account = choose_account(settings, account_name)
    if account.console_pushes:
        raise click.ClickException(NO_SECRET.format(account=account.label))
    buttons = account_menu(account)
    _call(settings, account, lambda api: api.post(CREATE, payload(buttons)))
    click.echo(f"published {_source(account)} to WeChat{_through(settings, account)}:")
    click.echo("\n".join(outline(buttons)))
    click.echo("phones show the new menu within about 5 minutes (or after following again)")


@menu.command("show")
@config_option
@account_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def show(config_path: str | None, account_name: str | None, as_json: bool) -> None:
    """The menu configured here and, with an app secret, the one WeChat has now."""
    settings = settings_from(config_path)
    account = choose_account(settings, account_name)
    local = account_menu(account)
    remote: tuple[Button, ...] | None = None
    problem: str | None = None
    if not account.console_pushes:
        try:
            remote = from_wechat(_call(settings, account, lambda api: api.get(CURRENT)))
        except click.ClickException as exc:
            problem = exc.message
    if as_json:
        click.echo(json.dumps(_as_json(account, local, remote, problem), ensure_ascii=False))
    else:
        _print(account, local, remote, problem)
    if problem:
        raise SystemExit(1)


def _print(
    account: Account,
    local: tuple[Button, ...],
    remote: tuple[Button, ...] | None,
    problem: str | None,
) -> None:
    click.echo(f"configured here ({_source(account)}):")
    click.echo("\n".join(outline(local)))
    if account.console_pushes:
        click.echo(f"on WeChat: not asked (no {account.label} app_secret)")
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
    account: Account,
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
        "source": "config" if account.menu else "default",
        "configured": payload(local),
        "wechat": wechat,
    }


def _source(account: Account) -> str:
    return "the menu from [[menu]]" if account.menu else "the default menu (words/menu.py)"


def _through(settings: Settings, account: Account) -> str:
    """ ", account NAME" when the config has several accounts."""
    return f" (account {account.name}, {account.app_id})" if len(settings.accounts) > 1 else ""


def _call(settings: Settings, account: Account, action: Any) -> dict[str, Any]:
    """Run `action(api)` with the account's shared access token; a WeChat error becomes one
    line."""
    db = Database(settings)
    http = HttpJson(account.api_base_url, settings.delivery.timeout_seconds)
    token = SharedToken(
        db,
        account.token_key,
        lambda force: fetch_wechat_token(http, account.app_id, account.app_secret, force),
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
