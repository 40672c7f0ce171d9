"""`simulate`: send a message to a running server exactly as WeChat would, print the reply."""

from __future__ import annotations

import urllib.error
import urllib.request

import click

from ..config import Settings
from ..db import Database
from .common import account_option, choose_account, config_option, settings_from


@click.command()
@config_option
@account_option
@click.option("--url", help="The server's root (default: [app] public_url, else :5000).")
@click.option(
    "--as", "openid", default="o_simulated_resident", show_default=True, help="The sender's openid."
)
@click.option("--event", help="Send an event (subscribe, unsubscribe, click, ...) instead.")
@click.option("--key", "event_key", help="The event's EventKey (for click events).")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait.")
@click.option(
    "--pushes",
    is_flag=True,
    help="Also print the pushes the message caused (to anyone), as their recipients read them.",
)
@click.argument("text", required=False)
def simulate(
    config_path: str | None,
    account_name: str | None,
    url: str | None,
    openid: str,
    event: str | None,
    event_key: str | None,
    timeout: float,
    pushes: bool,
    text: str | None,
) -> None:
    """Sign (and in safe mode encrypt) TEXT as WeChat does for the account, post it to the
    account's /wechat/NAME (/wechat for a config's only account), print the reply."""
    from devtools.simulator import Signer, message_xml

    settings = settings_from(config_path)
    if not event and text is None:
        raise click.UsageError("give a TEXT to send, or --event NAME")
    account = choose_account(settings, account_name)
    if not account.token:
        raise click.ClickException(
            f"config: {account.label} token is empty; the server would refuse"
        )
    base = url or settings.app.public_url or "http://127.0.0.1:5000"
    signer = Signer(account.token, account.encoding_aes_key, account.app_id)
    xml = message_xml(openid, text=text, event=event, event_key=event_key)
    signed = signer.sign(xml, openid=openid)
    last_push = _last_push_id(settings) if pushes else 0
    path = "/wechat" if account_name is None else f"/wechat/{account.name}"
    endpoint = f"{base.rstrip('/')}{path}?{signed.query_string}"
    request = urllib.request.Request(
        endpoint,
        data=signed.body,
        method="POST",
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()
        raise click.ClickException(f"the server answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise click.ClickException(
            f"cannot reach {base}: {reason} (is the server running? `make run`)"
        ) from None
    reply = signer.read_reply(body)
    if reply is None:
        click.echo("(no reply: the server answered success)", err=True)
    else:
        click.echo(reply)
    if pushes:
        for recipient, text_of_push in _pushes_after(settings, last_push):
            click.echo(f"\n—— 推送给 {recipient} ——\n{text_of_push}")


def _last_push_id(settings: Settings) -> int:
    from sqlalchemy import func, select

    from models import OutboxMessage

    db = Database(settings)
    with db.session(read_only=True) as session:
        last = session.scalar(select(func.max(OutboxMessage.id))) or 0
    db.dispose()
    return int(last)


def _pushes_after(settings: Settings, after: int) -> list[tuple[str, str]]:
    """The pushes queued since `after` (the message's transaction has committed by now)."""
    from sqlalchemy import select

    from models import OutboxMessage, Person
    from models.api.webhooks import WEBHOOK

    from ..delivery import UnknownKind, render

    db = Database(settings)
    with db.session(read_only=True) as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.payload, Person.openid)
            .outerjoin(Person, Person.id == OutboxMessage.person_id)
            # A city platform's webhook deliveries are no one's WeChat push.
            .where(OutboxMessage.id > after, OutboxMessage.kind != WEBHOOK)
            .order_by(OutboxMessage.id)
        ).all()
    db.dispose()
    shown = []
    for kind, payload, recipient in rows:
        try:
            shown.append((recipient or "（群发）", render(kind, payload).text))
        except UnknownKind as exc:
            shown.append((recipient or "（群发）", str(exc)))
    return shown
