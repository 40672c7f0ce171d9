"""Webhook deliveries: the outbox rows of kind WEBHOOK (models/api/webhooks.py), posted to
the subscription's URL by the outbox worker (worker.py calls this for them).

Each delivery is the stored body, byte for byte, POSTed with
    Content-Type: application/json
    Yishiting-Signature: t=UNIX_TIME,v1=HEX   HEX = HMAC-SHA256(secret, f"{t}." + body)
    Yishiting-Event-Id: evt_…
A 2xx answer is delivered. A timeout, a connection error, 408, 429 or 5xx is tried again,
doubling from [delivery] retry_base_seconds up to [api] webhook_retry_max_seconds (a 429's
Retry-After is honoured within that), until [api] webhook_max_attempts; any other answer
(4xx, a redirect) is dead with its status — `outbox retry` sends it again.

Order: rows with the same order key (one subscription, one ticket or 议题) go oldest first.
A row whose older sibling is still unsent (pending, sending, held) — in this batch or another
worker's — waits: it is given back, due again when that sibling is, without counting an
attempt. So a platform sees ticket #7 accepted before resolved, whatever the workers do.

A receiver that answered but whose answer was lost (a timeout after it processed the body)
gets the delivery again with the same event id: receivers dedupe by `Yishiting-Event-Id`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import requests
from sqlalchemy import Connection, Table, func, select

from models.api.keys import ApiKey
from models.api.webhooks import WEBHOOK, WebhookSubscription
from models.outbox import (
    CANCELLED,
    DEAD,
    HELD,
    LEASE,
    PENDING,
    SENDING,
    SENT,
    Claimed,
    OutboxMessage,
    Result,
)

from ..config import Settings

CHANNEL = "webhook"  # the outbox row's channel once delivered
UNSENT = (PENDING, SENDING, HELD)
RETRIED_STATUSES = frozenset({408, 429})
_O = cast(Table, OutboxMessage.__table__)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Yishiting-Signature` header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(frozen=True)
class Target:
    """Where a subscription's deliveries go, and why not when it is gone."""

    url: str
    secret: str
    gone: str | None  # "subscription deleted" / "API key revoked"; None: live


class Webhooks:
    """One worker's webhook sender: one HTTP session (kept alive between deliveries)."""

    def __init__(self, settings: Settings) -> None:
        self.api = settings.api
        self.base = settings.delivery.retry_base_seconds
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "Yishiting-Webhooks/1"
        # The environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) is read once per URL,
        # not for every delivery (requests would: a fifth of a delivery's cost).
        self.session.trust_env = False
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or True
        self._proxies: dict[str, dict[str, str]] = {}
        self._random = random.Random()
        self._targets: dict[int, Target] = {}
        self._order: dict[int, str] = {}  # row id → order key
        self._waiting: dict[str, tuple[int, datetime | None]] = {}  # key → oldest unsent elsewhere
        self._pending: dict[str, datetime | None] = {}  # key → an earlier row of this batch failed
        self._deferred: list[tuple[int, datetime]] = []

    def close(self) -> None:
        self.session.close()

    # -- before the batch: in the claim's transaction ----------------------------------------

    def prepare(self, conn: Connection, claimed: list[Claimed]) -> None:
        """Read what this batch's webhook rows need: their subscriptions, order keys, and the
        oldest unsent row of each key outside the batch (two queries; none without rows)."""
        self._pending, self._deferred = {}, []
        rows = [c for c in claimed if c.kind == WEBHOOK]
        if not rows:
            self._targets, self._order, self._waiting = {}, {}, {}
            return
        ids = [c.id for c in rows]
        found_keys = conn.execute(select(_O.c.id, _O.c.order_key).where(_O.c.id.in_(ids)))
        self._order = {row_id: key for row_id, key in found_keys}
        subs = {int(c.payload["subscription"]) for c in rows}
        found = conn.execute(
            select(
                WebhookSubscription.id,
                WebhookSubscription.url,
                WebhookSubscription.secret,
                WebhookSubscription.deleted_at,
                ApiKey.revoked_at,
            )
            .join(ApiKey, ApiKey.id == WebhookSubscription.key_id)
            .where(WebhookSubscription.id.in_(subs))
        )
        self._targets = {
            sub_id: Target(url, secret, _gone(deleted, revoked))
            for sub_id, url, secret, deleted, revoked in found
        }
        keys = {k for k in self._order.values() if k}
        oldest = (
            select(func.min(_O.c.id))
            .where(_O.c.order_key.in_(keys), _O.c.status.in_(UNSENT), _O.c.id.not_in(ids))
            .group_by(_O.c.order_key)
        )
        self._waiting = {
            key: (row_id, due if status == PENDING else None)
            for row_id, key, status, due in conn.execute(
                select(_O.c.id, _O.c.order_key, _O.c.status, _O.c.next_attempt_at).where(
                    _O.c.id.in_(oldest.scalar_subquery())
                )
            )
        }

    # -- one row ---------------------------------------------------------------------------

    def deliver(self, row: Claimed, now: datetime) -> Result | None:
        """Post one delivery; its outcome, or None when it waits for an older one."""
        payload = row.payload
        target = self._targets.get(int(payload["subscription"]))
        if target is None or target.gone:
            return Result(row.id, CANCELLED, error=target.gone if target else "no subscription")
        key = self._order.get(row.id) or ""
        wait = self._wait_for(row.id, key, now) if key else None
        if wait is not None:
            self._deferred.append((row.id, wait))
            self._pending[key] = wait  # and so do the younger rows of its key
            return None
        result = self._post(row, target, payload, now)
        if result.status == PENDING and key:
            self._pending[key] = result.next_attempt_at
        return result

    def _wait_for(self, row_id: int, key: str, now: datetime) -> datetime | None:
        """When to look at the row again if an older row with its order key is unsent."""
        soon = now + timedelta(seconds=1)
        if key in self._pending:  # an earlier row of this batch is to be tried again
            return max(soon, self._pending[key] or soon)
        older = self._waiting.get(key)
        if older is not None and older[0] < row_id:
            return max(soon, older[1] or soon)
        return None

    def _post(self, row: Claimed, target: Target, payload: dict[str, Any], now: datetime) -> Result:
        body = str(payload["body"]).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Yishiting-Signature": signature(target.secret, int(now.timestamp()), body),
            "Yishiting-Event-Id": str(payload["event"]),
        }
        timeout = self.api.webhook_timeout_seconds
        try:
            answer = self.session.post(
                target.url,
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                proxies=self._proxies_for(target.url),
            )
        except requests.Timeout:
            return self._retry(row, f"no answer within {timeout:g} s", now)
        except requests.RequestException as exc:
            return self._retry(row, f"cannot connect: {type(exc).__name__}", now)
        status = answer.status_code
        if 200 <= status < 300:
            return Result(row.id, SENT, channel=CHANNEL)
        if status >= 500 or status in RETRIED_STATUSES:
            after = _retry_after(answer.headers.get("Retry-After")) if status == 429 else None
            return self._retry(row, f"HTTP {status}", now, after=after)
        return Result(row.id, DEAD, channel=CHANNEL, error=f"HTTP {status}: not retried")

    def _proxies_for(self, url: str) -> dict[str, str]:
        found = self._proxies.get(url)
        if found is None:
            found = self._proxies[url] = requests.utils.get_environ_proxies(url)
        return found

    def _retry(
        self, row: Claimed, reason: str, now: datetime, *, after: float | None = None
    ) -> Result:
        if row.attempts >= self.api.webhook_max_attempts:
            error = f"gave up after {row.attempts} tries: {reason}"
            return Result(row.id, DEAD, channel=CHANNEL, error=error[:500])
        delay = self.backoff(row.attempts)
        if after is not None:
            delay = min(self.api.webhook_retry_max_seconds, max(delay, after))
        return Result(
            row.id,
            PENDING,
            channel=CHANNEL,
            error=reason[:500],
            next_attempt_at=now + timedelta(seconds=delay),
        )

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try: base, doubling per try, ±20 % jitter, capped."""
        cap = self.api.webhook_retry_max_seconds
        delay = min(cap, self.base * 2 ** min(max(0, attempts - 1), 30))
        return min(cap, delay * self._random.uniform(0.8, 1.2))

    # -- after the batch: in the record's transaction --------------------------------------

    def record(self, conn: Connection, worker: str) -> None:
        """Give back the rows that waited for an older one: due again later, the attempt
        not counted."""
        for row_id, until in self._deferred:
            LEASE.finish(
                conn,
                row_id,
                worker=worker,
                values={"status": PENDING, "next_attempt_at": until, "attempts": _O.c.attempts - 1},
            )
        self._deferred = []


def _gone(deleted: datetime | None, revoked: datetime | None) -> str | None:
    if deleted is not None:
        return "subscription deleted"
    if revoked is not None:
        return "API key revoked"
    return None


def _retry_after(value: str | None) -> float | None:
    """A Retry-After header's seconds (its date form is not worth the parsing here)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
