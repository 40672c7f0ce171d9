"""`worker`, `scheduler`, `outbox list|retry` and `notify`: pushes and time from the shell."""

from __future__ import annotations

import json
import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Person, announce
from models.api.webhooks import WEBHOOK
from models.audience import PlaceError, followers, reaches, residents_of
from models.outbox import STATUSES, OutboxMessage, counts_by_status, list_outbox, retry
from models.scoping import outbox_community, scoped

from ..db import Database
from .common import choose_account, community_option, config_option, scope_of, settings_from
from .serve import safe_start

log = logging.getLogger(__name__)


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT end the loop cleanly (systemd stops a unit with SIGTERM)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


@click.command()
@config_option
def worker(config_path: str | None) -> None:
    """Deliver queued pushes until stopped. Run as many as you like, on any machine."""
    from ..delivery import Worker

    settings = settings_from(config_path)
    safe_start(settings, web=False)
    db = Database(settings)
    db.check_schema()  # never run against a schema from a newer version
    outbox_worker = Worker(settings, db)
    stop = threading.Event()
    stop_on_signals(stop)
    thread = threading.Thread(target=outbox_worker.run, name="outbox-worker")
    thread.start()
    stop.wait()
    outbox_worker.stop()
    thread.join()
    db.dispose()


@click.command()
@config_option
def scheduler(config_path: str | None) -> None:
    """Run the scheduler (sweeps and daily jobs). Only one is active; others wait for it."""
    from ..schedule import Timekeeper

    settings = settings_from(config_path)
    safe_start(settings, web=False)
    db = Database(settings)
    db.check_schema()  # never run against a schema from a newer version
    keeper = Timekeeper(settings, db)
    stop = threading.Event()
    stop_on_signals(stop)
    keeper.start()
    stop.wait()
    keeper.stop()
    db.dispose()


@click.group()
def outbox() -> None:
    """Queued pushes (待发消息): list them, put dead ones back in the queue."""


@outbox.command("list")
@config_option
@click.option("--status", type=click.Choice(STATUSES), help="Only rows in this state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one row each.")
@community_option
def list_command(
    config_path: str | None, status: str | None, limit: int, as_json: bool, community: str | None
) -> None:
    """The newest pushes (all, or in one state), with their tries and last error."""
    db = Database(settings_from(config_path))
    with db.session(read_only=True) as session:
        # With --community: the pushes to that community's people only.
        community_id = scope_of(session, community).community_id
        rows = list_outbox(session, status=status, limit=limit, community_id=community_id)
        counts = counts_by_status(session, community_id)
        wanted = {r.person_id for r in rows if r.person_id}
        openids = {
            person_id: openid
            for person_id, openid in session.execute(
                select(Person.id, Person.openid).where(Person.id.in_(wanted))
            )
        }
    db.dispose()
    for row in rows:
        item = {
            "id": row.id,
            "kind": row.kind,
            "to": openids.get(row.person_id) if row.person_id else _no_person(row),
            "status": row.status,
            "channel": row.channel,
            "attempts": row.attempts,
            "next_attempt_at": row.next_attempt_at.isoformat(),
            "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "last_error": row.last_error,
        }
        if as_json:
            click.echo(json.dumps(item, ensure_ascii=False))
        else:
            click.echo(
                f"{row.id:>7}  {row.status:<9} {row.kind:<18} to {item['to']}  "
                f"tries {row.attempts}  via {row.channel or '-'}"
                + (f"  error: {row.last_error}" if row.last_error else "")
            )
    if not as_json:
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "empty"
        click.echo(f"outbox: {summary}", err=True)


def _no_person(row: OutboxMessage) -> str:
    """Whom a row for no person is for: a webhook delivery's URL, else everyone (群发)."""
    url = row.payload.get("url") if row.kind == WEBHOOK else None
    return str(url) if url else "(broadcast)"


@outbox.command("retry")
@config_option
@click.argument("ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--all-dead", is_flag=True, help="Every dead row.")
@community_option
def retry_command(
    config_path: str | None, ids: tuple[int, ...], all_dead: bool, community: str | None
) -> None:
    """Put dead (or held) rows ID... back in the queue, due now, with fresh tries."""
    if not ids and not all_dead:
        raise click.UsageError("name the rows to retry (IDs) or pass --all-dead")
    db = Database(settings_from(config_path))
    with db.session() as session:
        scope = scope_of(session, community)
        # Another community's rows are left alone, and counted as "do not exist" below.
        chosen = [
            row.id
            for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
            if scope.street or outbox_community(session, row) == scope.community_id
        ]
        if all_dead:
            dead = list_outbox(
                session, status="dead", limit=1_000_000, community_id=scope.community_id
            )
            chosen += [r.id for r in dead]
        count = retry(session, chosen, datetime.now(UTC))
    db.dispose()
    click.echo(f"{count} pushes queued again")
    if ids and count < len(set(ids)):
        raise click.ClickException(
            f"{len(set(ids)) - count} of the rows named are not dead or held (or do not exist)"
        )


@click.command()
@config_option
@click.option("--to", "to_openids", multiple=True, help="One person's openid (repeatable).")
@click.option("--all", "everyone", is_flag=True, help="Everyone who follows the account.")
@click.option("--grid", "grids", multiple=True, help="Residents of a grid (网格).")
@click.option("--building", "buildings", multiple=True, help="Residents of a building (楼栋).")
@click.option("--broadcast", is_flag=True, help="Send by WeChat's mass send (群发) instead.")
@click.option("--key", help="A name for this announcement: repeating the command is a no-op.")
@click.option(
    "--account",
    "account_name",
    metavar="NAME",
    help="Only the audience's followers of this account ([[accounts]] name); without it each "
    "person gets the notice through the account they follow.",
)
@community_option
@click.argument("text")
def notify(
    config_path: str | None,
    to_openids: tuple[str, ...],
    everyone: bool,
    grids: tuple[str, ...],
    buildings: tuple[str, ...],
    broadcast: bool,
    key: str | None,
    account_name: str | None,
    community: str | None,
    text: str,
) -> None:
    """Announce TEXT (通知) to residents: one push each; prints how many were queued."""
    text = text.strip()
    if not text:
        raise click.UsageError("the announcement's text is empty")
    if len(text) > 2000:
        raise click.UsageError(f"the announcement is {len(text)} characters; at most 2000")
    chosen = sum(bool(x) for x in (to_openids, everyone, grids, buildings))
    if chosen != 1:
        raise click.UsageError("choose exactly one audience: --to, --all, --grid or --building")
    settings = settings_from(config_path)
    account = choose_account(settings, account_name) if account_name else None
    db = Database(settings)
    with db.session() as session:
        # With --community: that community's people, grids and buildings only (a person of
        # another community is an unknown openid), and the notice is the community's.
        scope = scope_of(session, community)
        community_id = scope.community_id
        if everyone:
            people, audience = followers(session, community_id), "all"
        elif grids or buildings:
            people, audience, community_id = _residents_of(session, community_id, grids, buildings)
        else:
            query = select(Person).where(Person.openid.in_(to_openids))
            people = list(session.scalars(scoped(query, Person.community_id, scope)))
            missing = sorted(set(to_openids) - {p.openid for p in people})
            if missing:
                raise click.ClickException(
                    f"unknown openid(s): {', '.join(missing)} (they have never written to us)"
                )
            elsewhere = sorted(p.openid for p in people if not reaches(session, community_id, p.id))
            if elsewhere:
                raise click.ClickException(
                    f"openid(s) {', '.join(elsewhere)}: not residents of {community}"
                )
            audience = "openid:" + ",".join(sorted(to_openids))
        if account is not None:
            people = [p for p in people if settings.account_of(p.account) == account]
            audience = f"{audience} account:{account.name}"
        result = announce(
            session,
            text=text,
            people=people,
            audience=audience[:200],
            now=datetime.now(UTC),
            actor="cli",
            key=key,
            broadcast=broadcast and len(people) >= 2,
            community_id=community_id,
        )
    db.dispose()
    skipped = result.recipients - result.queued
    click.echo(
        f"announcement #{result.announcement_id}: {result.queued} pushes queued"
        + (f" ({skipped} already queued before)" if skipped else "")
        + (" as a broadcast" if broadcast and len(people) >= 2 else "")
    )


def _residents_of(
    session: Session,
    community_id: int | None,
    grids: tuple[str, ...],
    buildings: tuple[str, ...],
) -> tuple[list[Person], str, int | None]:
    """The people bound (and approved) to households in these grids or buildings, within the
    community (or the one community the names belong to), and that community."""
    try:
        people, found_in = residents_of(session, community_id, grids, buildings)
    except PlaceError as exc:
        hint = "`yishiting places list`" if exc.missing else "--community NAME"
        raise click.ClickException(f"{exc} (see {hint})") from None
    audience = (
        "grid:" + ",".join(sorted(grids)) if grids else "building:" + ",".join(sorted(buildings))
    )
    return people, audience, found_in
