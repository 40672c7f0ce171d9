"""`fake-wechat`: run the fake WeChat/WeCom API (devtools.fake_wechat) as its own process.

Why a command: the demo and the benchmark run the bot in other processes, which need a WeChat
to talk to that is not the real one. Point the bot's WeChat API base URL at this and watch what
it sends, one line per accepted message on stderr. It needs no config. The fake is loaded only
when the command runs: production code never imports a development double.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from devtools.fake_wechat import FakeWeChat, Received

CONTENT_CHARS = 60
SHOWN_USERS = 3


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", "\\n")


def _content(body: dict[str, Any]) -> str:
    """The text a person would read: text.content, or a template's id and values."""
    text = body.get("text")
    if isinstance(text, dict) and "content" in text:
        return str(text["content"])
    if "template_id" in body:
        data = body.get("data")
        values = []
        if isinstance(data, dict):
            for item in data.values():
                values.append(str(item.get("value", "")) if isinstance(item, dict) else str(item))
        return " / ".join([str(body["template_id"]), *values])
    rest = {k: v for k, v in body.items() if k != "touser"}
    return json.dumps(rest, ensure_ascii=False)


def _recipients(touser: object) -> str:
    if isinstance(touser, list):
        shown = ",".join(str(u) for u in touser[:SHOWN_USERS])
        more = len(touser) - SHOWN_USERS
        return f"{shown},(+{more})" if more > 0 else shown
    return str(touser) if touser else "-"


def describe(received: Received) -> str:
    """One line for an accepted send: time, api, recipients, the first 60 chars of the text."""
    stamp = time.strftime("%H:%M:%S", time.localtime(received.at))
    to = _recipients(received.body.get("touser"))
    text = _one_line(_content(received.body))[:CONTENT_CHARS]
    return f"{stamp} {received.api:<8} {to} {text}"


def _wait_forever(fake: FakeWeChat) -> None:
    """Block until Ctrl-C (a KeyboardInterrupt). Tests replace this."""
    threading.Event().wait()


@click.command("fake-wechat")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--app",
    "apps",
    multiple=True,
    metavar="APPID:SECRET",
    help="Also serve this Official Account (one per [[accounts]] entry; repeatable).",
)
def fake_wechat(host: str, port: int, apps: tuple[str, ...]) -> None:
    """Run a fake WeChat/WeCom API on a local port (tests and the demo); prints what it receives."""
    from devtools.fake_wechat import FakeWeChat

    fake = FakeWeChat(host, port)
    for app in apps:
        app_id, sep, secret = app.partition(":")
        if not sep or not app_id or not secret:
            raise click.UsageError(f"--app {app!r}: expected APPID:SECRET")
        fake.add_app(app_id, secret)
    echo_lock = threading.Lock()

    def log_received(received: Received) -> None:
        line = describe(received)
        with echo_lock:
            click.echo(line, err=True)

    fake.on_receive = log_received
    try:
        fake.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from None
    click.echo(
        f"fake WeChat API on {fake.url} (app_id {fake.app_id}, app_secret {fake.app_secret})",
        err=True,
    )
    for app_id, secret in list(fake.apps.items())[1:]:
        click.echo(
            f"fake WeChat API on {fake.url} (app_id {app_id}, app_secret {secret})", err=True
        )
    click.echo(
        f"fake WeCom API on {fake.url} (corp_id {fake.corp_id}, corp_secret {fake.corp_secret})",
        err=True,
    )
    try:
        _wait_forever(fake)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
