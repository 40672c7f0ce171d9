"""`GET /metrics`: Prometheus' text format for the people who run the service (`[metrics]
enabled = true`; without it the route does not exist and answers 404).

Two kinds of figures, on purpose:
- Read from the database at scrape time (exact whichever process answers, however many
  gunicorn workers, worker processes or machines there are): tickets by state, outbox rows by
  status, the backlog and dead rows /readyz checks, and the pushes whose last try failed, by
  WeChat error code. A few GROUP BY queries per scrape, none per request.
- Counted in this process: requests by route, method and status, and their latency (a
  histogram). Under gunicorn with several workers each scrape reads the worker that answered,
  so these are per process; sum over time in Prometheus with that in mind, or run the web as
  one process with threads when exact request figures matter.
The webhook's hot path pays two clock reads and one locked dictionary update per request.

Written by hand rather than with prometheus_client: a counter, a histogram and some gauges
are a few lines of a stable text format, and the library's multi-process mode (a shared
directory of memory-mapped files per worker) would be the only reason to take it on.
"""

from __future__ import annotations

import re
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.inbound import count_failed
from models.intake import CHANNELS
from models.media import OUTCOMES, WAITING
from models.outbox import DEAD, PENDING, STATUSES, OutboxMessage
from models.tickets import OPEN_STATUSES, Attachment, Ticket

from .extension import yishiting
from .health import outbox_counts
from .spool import spool_counts, spool_folder

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
EXTENSION = "yishiting.metrics"

bp = Blueprint("metrics", __name__)

Labels = tuple[str, str, str]  # route, method, status
# Every state a ticket can be in (models/lifecycle.py), so a state with none shows 0.
TICKET_STATES = (*OPEN_STATUSES, "resolved", "closed", "rejected")
MEDIA = (*WAITING, *OUTCOMES)  # every download state, so a state with none shows 0
ERRCODE = re.compile(r"errcode (-?\d+)")
HTTP_STATUS = re.compile(r"HTTP (\d{3})")


class RequestMetrics:
    """This process's request counts and latency histogram, by route, method and status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.buckets: dict[Labels, list[int]] = {}  # per bucket, not cumulative; + the rest
        self.sums: dict[Labels, float] = {}

    def observe(self, labels: Labels, seconds: float) -> None:
        slot = bisect_left(BUCKETS, seconds)  # the first bucket whose limit is >= seconds
        with self._lock:
            counts = self.buckets.get(labels)
            if counts is None:
                counts = self.buckets[labels] = [0] * (len(BUCKETS) + 1)
            counts[slot] += 1
            self.sums[labels] = self.sums.get(labels, 0.0) + seconds

    def lines(self) -> Iterable[str]:
        with self._lock:
            snapshot = {labels: (list(c), self.sums[labels]) for labels, c in self.buckets.items()}
        name = "yishiting_http_requests"
        yield f"# HELP {name}_total HTTP requests this process answered."
        yield f"# TYPE {name}_total counter"
        for labels, (counts, _) in sorted(snapshot.items()):
            yield f"{name}_total{{{_labels(labels)}}} {sum(counts)}"
        name = "yishiting_http_request_duration_seconds"
        yield f"# HELP {name} Time to answer a request, in this process."
        yield f"# TYPE {name} histogram"
        for labels, (counts, total) in sorted(snapshot.items()):
            tags = _labels(labels)
            running = 0
            for limit, count in zip((*BUCKETS, None), counts, strict=True):
                running += count
                bound = "+Inf" if limit is None else f"{limit:g}"
                yield f'{name}_bucket{{{tags},le="{bound}"}} {running}'
            yield f"{name}_sum{{{tags}}} {total:.6f}"
            yield f"{name}_count{{{tags}}} {running}"


def _labels(labels: Labels) -> str:
    route, method, status = labels
    return f'route="{_escape(route)}",method="{_escape(method)}",status="{status}"'


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def init_metrics(app: Flask) -> None:
    """Count requests and serve /metrics, when `[metrics] enabled`; otherwise do nothing."""
    if not yishiting(app).settings.metrics.enabled:
        return
    metrics = app.extensions[EXTENSION] = RequestMetrics()

    @app.before_request
    def started() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def finished(response: Response) -> Response:
        began = g.get("metrics_started")
        if began is not None:
            # The rule, not the path: /admin/tickets/<number> is one series, and a scan of
            # random paths adds one ("unmatched"), not thousands.
            rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
            labels = (rule, request.method, str(response.status_code))
            metrics.observe(labels, time.perf_counter() - began)
        return response

    app.register_blueprint(bp)


@bp.get("/metrics")
def scrape() -> Response:
    ys = yishiting(current_app)
    with ys.db.session(read_only=True) as session:
        lines = list(
            database_lines(session, ys.settings.health.backlog_seconds, ys.conversation.clock())
        )
    spooled = spool_counts(spool_folder(ys.settings))
    lines += _gauge(
        "yishiting_spool_files",
        "Webhook messages on disk: waiting for the database, or set aside as bad.",
        [('state="waiting"', spooled.waiting), ('state="bad"', spooled.bad)],
    )
    lines += current_app.extensions[EXTENSION].lines()
    return Response("\n".join(lines) + "\n", content_type=CONTENT_TYPE)


def database_lines(session: Session, backlog_seconds: float, now: datetime) -> Iterable[str]:
    """The gauges read from the database: the same answer from every process."""
    tickets = _counts(session, Ticket.status)
    yield from _gauge(
        "yishiting_tickets",
        "Tickets by state.",
        [
            (f'state="{_escape(state)}"', tickets.get(state, 0))
            for state in _union(TICKET_STATES, tickets)
        ],
    )
    channels = _counts(session, Ticket.channel)
    yield from _gauge(
        "yishiting_tickets_by_channel",
        "Tickets by how they came in (wechat; phone, visit, patrol: filed by staff).",
        [
            (f'channel="{_escape(channel)}"', channels.get(channel, 0))
            for channel in _union(CHANNELS, channels)
        ],
    )
    media = _counts(session, Attachment.media_status, Attachment.media_status.is_not(None))
    yield from _gauge(
        "yishiting_media_attachments",
        "Photos, voice and video attached to tickets, by download state (stored; pending, "
        "fetching: waiting; too_large, bad_type, failed: not kept; id_only: no app secret).",
        [(f'state="{_escape(state)}"', media.get(state, 0)) for state in _union(MEDIA, media)],
    )
    rows = _counts(session, OutboxMessage.status)
    yield from _gauge(
        "yishiting_outbox_rows",
        "Outbox rows by status (sent and cancelled rows are trimmed after keep_days).",
        [(f'status="{_escape(status)}"', rows.get(status, 0)) for status in _union(STATUSES, rows)],
    )
    backlog, dead = outbox_counts(session, now, backlog_seconds)
    yield from _gauge(
        "yishiting_outbox_backlog",
        f"Pushes due for longer than {backlog_seconds:g} s ([health] backlog_seconds).",
        [("", backlog)],
    )
    yield from _gauge("yishiting_outbox_dead", "Pushes that will not be tried again.", [("", dead)])
    yield from _gauge(
        "yishiting_inbound_failed",
        "Messages whose handling failed (listed in the console and by `inbound list --failed`).",
        [("", count_failed(session))],
    )
    yield from _gauge(
        "yishiting_push_failures",
        "Pushes whose last try failed, by error (WeChat errcode, http_NNN, timeout, network, "
        "other) and status (pending: to be retried; dead: given up).",
        [(f'code="{code}",status="{status}"', n) for (status, code), n in _failures(session)],
    )


def _counts(session: Session, column: Any, *where: Any) -> dict[str, int]:
    query = select(column, func.count()).where(*where).group_by(column)
    return {str(value): int(count) for value, count in session.execute(query)}


def _union(known: Iterable[str], found: dict[str, int]) -> list[str]:
    return list(dict.fromkeys([*known, *sorted(found)]))


def _failures(session: Session) -> list[tuple[tuple[str, str], int]]:
    rows = session.execute(
        select(OutboxMessage.status, OutboxMessage.last_error, func.count())
        .where(OutboxMessage.status.in_((PENDING, DEAD)), OutboxMessage.last_error.is_not(None))
        .group_by(OutboxMessage.status, OutboxMessage.last_error)
    )
    counts: dict[tuple[str, str], int] = {}
    for status, error, count in rows:
        key = (status, error_code(error or ""))
        counts[key] = counts.get(key, 0) + int(count)
    return sorted(counts.items())


def error_code(error: str) -> str:
    """A push's last_error as a label: the WeChat errcode, http_NNN, timeout, network, other."""
    if found := ERRCODE.search(error):
        return found.group(1)
    if found := HTTP_STATUS.search(error):
        return f"http_{found.group(1)}"
    if "no answer within" in error:
        return "timeout"
    if "Error" in error or "Exception" in error:  # e.g. "…: ConnectionError" (api.py)
        return "network"
    return "other"


def _gauge(name: str, help_text: str, samples: list[tuple[str, int]]) -> Iterable[str]:
    yield f"# HELP {name} {help_text}"
    yield f"# TYPE {name} gauge"
    for labels, value in samples:
        yield f"{name}{{{labels}}} {value}" if labels else f"{name} {value}"
