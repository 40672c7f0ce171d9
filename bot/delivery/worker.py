"""The outbox worker: claim due pushes, send each through the person's channel, record it.

Any number of workers may run, in threads of `yishiting serve` or as `yishiting worker`
processes on several machines; they share nothing but the database. A worker:
1. claims up to `batch_size` due rows with a lease (`models.outbox.claim_due`);
2. renders and sends each, in order, stopping early (and giving the rest back) when its lease
   is about to run out, so no other worker can take a row it is still sending;
3. records every outcome in one transaction: sent, retry later (1 s, doubling with jitter up
   to 30 s), held for the next reply, or dead (a permanent error, or too many tries).
A worker killed mid-batch loses nothing: its rows are due again when the lease ends; the pushes
it had sent but not recorded are sent again (at most one batch).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select, update

from models import Person
from models.announcements import MASS_NOTICE
from models.api.webhooks import WEBHOOK
from models.outbox import (
    CANCELLED,
    DEAD,
    HELD,
    PENDING,
    SENT,
    Claimed,
    Result,
    claim_due,
    record_results,
    release,
)
from models.subscriptions import subscribed

from ..config import Settings
from ..db import Database
from ..heartbeat import Heartbeat
from ..media.fetch import MediaFetcher
from ..wechat.api import ChannelRefused, Permanent, QuotaReached, Transient, WindowClosed
from .channels import Channels, Recipient
from .templates import UnknownKind, render
from .webhooks import Webhooks

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class BatchStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    held: int = 0
    dead: int = 0
    released: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


class Worker:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Callable[[], datetime] = utc_now,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"
        self.delivery = settings.delivery
        self.channels = Channels(settings, db, clock)
        self.webhooks = Webhooks(settings)  # one HTTP session per worker, kept alive
        self._batches = 0
        self._stop = threading.Event()
        self._random = random.Random()
        # Attachments to keep are downloaded between batches, with the same token and backoff.
        tokens = {name: found.api.token for name, found in self.channels.apis.items()}
        self.media = MediaFetcher(
            settings, db, clock, tokens, self.backoff, f"{self.name}#media"[:64]
        )

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        """Work until `stop()`: a full batch is followed at once by the next one; otherwise
        the worker looks again after `poll_seconds`."""
        log.info("outbox worker %s started", self.name)
        beat = Heartbeat(
            f"outbox worker {self.name}",
            self.settings.health.heartbeat_seconds,
            ("claimed", "sent", "retried", "held", "dead", "failed batches"),
        )
        while not self._stop.is_set():
            beat.maybe_log()
            try:
                stats = self.run_once()
            except Exception:
                beat.count("failed batches")
                log.exception("outbox worker %s: a batch failed; trying again shortly", self.name)
                self._stop.wait(self.delivery.poll_seconds)
                continue
            for name in ("claimed", "sent", "retried", "held", "dead"):
                beat.count(name, getattr(stats, name))
            fetched = self._fetch_media()
            if stats.claimed < self.delivery.batch_size and not fetched:
                self._stop.wait(self.delivery.poll_seconds)
        self.channels.close()
        self.webhooks.close()
        self.media.close()
        log.info("outbox worker %s stopped", self.name)

    def stop(self) -> None:
        self._stop.set()

    def _fetch_media(self) -> int:
        """One round of attachment downloads; a failure is logged, never stops the pushes."""
        try:
            return self.media.run_once()
        except Exception:
            log.exception("outbox worker %s: a media round failed; trying again shortly", self.name)
            return 0

    # -- one batch -----------------------------------------------------------------------

    def run_once(self) -> BatchStats:
        self._batches += 1
        claim_id = f"{self.name}#{self._batches}"[:64]
        lease = self.delivery.lease_seconds
        now = self.clock()
        started = time.monotonic()
        with self.db.transaction() as conn:
            claimed = claim_due(
                conn,
                now=now,
                lease_until=now + timedelta(seconds=lease),
                worker=claim_id,
                limit=self.delivery.batch_size,
            )
            self.webhooks.prepare(conn, claimed)
            recipients = _recipients(conn, {c.person_id for c in claimed if c.person_id})
            if any(a.subscription_maps for a in self.settings.accounts):
                for person_id, templates in subscribed(conn, recipients).items():
                    recipients[person_id].subscribed = templates
        stats = BatchStats(claimed=len(claimed))
        if not claimed:
            return stats
        # Stop sending while there is still time for one more call and for recording.
        slowest = self.delivery.timeout_seconds
        if any(row.kind == WEBHOOK for row in claimed):
            slowest = max(slowest, self.settings.api.webhook_timeout_seconds)
        deadline = started + lease - 2 * slowest
        results: list[Result] = []
        unsent: list[int] = []
        cs_used: dict[int, int] = {}
        window_shut: set[int] = set()
        for row in claimed:
            if time.monotonic() > deadline:
                unsent.append(row.id)
                continue
            if row.kind == WEBHOOK:  # no person, no template: posted to the platform
                webhook = self.webhooks.deliver(row, self.clock())
                if webhook is not None:  # None: it waits for an older delivery
                    results.append(webhook)
                continue
            results.append(self._deliver(row, recipients, cs_used, window_shut))
        finished = self.clock()
        with self.db.transaction() as conn:
            self.webhooks.record(conn, claim_id)
            record_results(conn, results, worker=claim_id, now=finished)
            release(conn, unsent, worker=claim_id, now=finished)
            _record_budget(conn, cs_used, window_shut, self.delivery.cs_budget)
            _record_held(conn, [r.id for r in results if r.status == HELD], claimed)
        for result in results:
            if result.status == SENT:
                stats.sent += 1
                channel = result.channel or "?"
                stats.by_channel[channel] = stats.by_channel.get(channel, 0) + 1
            elif result.status == PENDING:
                stats.retried += 1
            elif result.status == HELD:
                stats.held += 1
            elif result.status == DEAD:
                stats.dead += 1
        stats.released = len(unsent)
        return stats

    def _deliver(
        self,
        row: Claimed,
        recipients: dict[int, Recipient],
        cs_used: dict[int, int],
        window_shut: set[int],
    ) -> Result:
        try:
            rendered = render(row.kind, row.payload)
        except UnknownKind as exc:
            return Result(row.id, DEAD, error=str(exc))
        now = self.clock()
        if row.kind == MASS_NOTICE:
            openids = [str(o) for o in row.payload.get("openids", [])]
            mass = self.channels.mass_for(row.payload.get("account"))
            try:
                mass.broadcast(openids, rendered)
            except Permanent as exc:
                return Result(row.id, DEAD, error=exc.reason)
            except (Transient, WindowClosed) as exc:
                return self._retry(row, exc.reason, now)
            return Result(row.id, SENT, channel=mass.name)
        person = recipients.get(row.person_id or -1)
        if person is None:
            return Result(row.id, DEAD, error="the recipient no longer exists")
        if not person.following:
            # Cancelled, not dead: nothing to retry (following again resumes new pushes).
            return Result(row.id, CANCELLED, error="the person does not follow the account")
        unknown = self.channels.account_problem(person.account)
        if unknown:
            return Result(row.id, DEAD, error=unknown)
        # The budget counts what this batch has sent as well as what was recorded.
        person.cs_sent = cs_used.get(person.id, person.cs_sent)
        refusals: list[str] = []
        for channel in self.channels.route(person, row.kind, now):
            try:
                channel.send(person, row.kind, rendered)
            except ChannelRefused as exc:
                # This channel cannot carry it (a template value, a refused subscription).
                log.warning("outbox %d: %s refused it (%s)", row.id, channel.name, exc.reason)
                refusals.append(f"{channel.name}: {exc.reason}")
                continue
            except WindowClosed as exc:
                # Waiting does not help: note it and try the next channel at once.
                log.info("outbox %d: %s; trying the next channel", row.id, exc.reason)
                person.cs_sent = self.delivery.cs_budget
                window_shut.add(person.id)
                continue
            except Permanent as exc:
                # 43004 (does not follow), a bad openid, an unauthorised API: not retried.
                return Result(row.id, DEAD, channel=channel.name, error=exc.reason)
            except Transient as exc:
                slow = isinstance(exc, QuotaReached)
                return self._retry(row, exc.reason, now, channel=channel.name, slow=slow)
            if channel.name == "cs":
                cs_used[person.id] = person.cs_sent + 1
            return Result(row.id, SENT, channel=channel.name)
        held = "no channel open: shown with the next reply"
        return Result(row.id, HELD, error="; ".join([*refusals, held])[:500])

    def _retry(
        self,
        row: Claimed,
        reason: str,
        now: datetime,
        *,
        channel: str | None = None,
        slow: bool = False,
    ) -> Result:
        if row.attempts >= self.delivery.max_attempts:
            return Result(
                row.id,
                DEAD,
                channel=channel,
                error=f"gave up after {row.attempts} tries: {reason}"[:500],
            )
        return Result(
            row.id,
            PENDING,
            channel=channel,
            error=reason[:500],
            next_attempt_at=now + timedelta(seconds=self.backoff(row.attempts, slow=slow)),
        )

    def backoff(self, attempts: int, *, slow: bool = False) -> float:
        """Seconds before the next try: base, doubling per try, capped, with ±20% jitter;
        `slow` (the daily quota is used up) starts at the cap."""
        base = self.delivery.retry_base_seconds * 2 ** max(0, attempts - 1)
        if slow:
            base = self.delivery.retry_max_seconds
        delay = min(self.delivery.retry_max_seconds, base)
        return min(self.delivery.retry_max_seconds, delay * self._random.uniform(0.8, 1.2))


def _recipients(conn: Connection, ids: set[int]) -> dict[int, Recipient]:
    if not ids:
        return {}
    rows = conn.execute(
        select(
            Person.id,
            Person.openid,
            Person.role,
            Person.following,
            Person.last_message_at,
            Person.cs_sent,
            Person.wecom_user_id,
            Person.account,
        ).where(Person.id.in_(ids))
    ).all()
    return {row.id: Recipient(*row) for row in rows}


def _record_budget(
    conn: Connection, cs_used: dict[int, int], window_shut: set[int], budget: int
) -> None:
    """What this batch used of each person's customer-service budget."""
    for person_id in window_shut:
        conn.execute(update(Person).where(Person.id == person_id).values(cs_sent=budget))
    for person_id, used in cs_used.items():
        if person_id not in window_shut:
            conn.execute(
                update(Person)
                .where(Person.id == person_id, Person.cs_sent < used)
                .values(cs_sent=used)
            )


def _record_held(conn: Connection, held_ids: list[int], claimed: list[Claimed]) -> None:
    """Tell each person's row that pushes wait for their next reply."""
    held = set(held_ids)
    counts: dict[int, int] = {}
    for row in claimed:
        if row.id in held and row.person_id is not None:
            counts[row.person_id] = counts.get(row.person_id, 0) + 1
    for person_id, count in counts.items():
        conn.execute(
            update(Person)
            .where(Person.id == person_id)
            .values(held_pushes=Person.held_pushes + count)
        )


def run_workers(
    settings: Settings, db: Database, count: int
) -> tuple[list[Worker], list[threading.Thread]]:
    """Start `count` worker threads (for `yishiting serve`); stop them with `worker.stop()`."""
    workers = [
        Worker(settings, db, name=f"{socket.gethostname()}:{os.getpid()}:t{n}")
        for n in range(count)
    ]
    threads = [
        threading.Thread(target=w.run, name=f"outbox-worker-{n}", daemon=True)
        for n, w in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    return workers, threads
