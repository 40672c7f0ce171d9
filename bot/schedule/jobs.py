"""The scheduler's jobs. Each only changes state or queues outbox rows, idempotently.

Timers live in the domain tables (DESIGN.md "Time"): the `sweep` job, every few seconds, runs
every registered sweep function, and each acts on whatever is due by then. A later feature
adds its own with `@register_sweep("name")`. The daily `housekeeping` job trims old rows; the
nightly `retrain` job, at the same time, retrains the learned classifier when enough tickets
were confirmed since the model in use learned ([classifier] retrain_min_new).

A run is recorded in `job_run` under its slot (the sweep's interval slot, the housekeeping's
day) before it starts; the slot is unique, so a run can never happen twice, even with two
schedulers or a restart in the middle of a run.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.jobs import JobRun, forget_old
from models.states import drop_expired_states as drop_states
from words.times import parse_time_of_day

from ..config import Settings
from ..db import Database
from ..media.store import MediaStore, media_folder

log = logging.getLogger(__name__)

SWEEP_ID = "sweep"
HOUSEKEEPING_ID = "housekeeping"
DIGEST_ID = "digest"
RETRAIN_ID = "retrain"

# A sweep function: (session, now, settings) -> a short summary of what it did, or None.
SweepFunc = Callable[[Session, datetime, Settings], str | None]
SWEEPS: dict[str, SweepFunc] = {}


def register_sweep(name: str) -> Callable[[SweepFunc], SweepFunc]:
    def add(func: SweepFunc) -> SweepFunc:
        SWEEPS[name] = func
        return func

    return add


@dataclass
class Runtime:
    """What the jobs need; set by the scheduler process before it starts (jobs are stored in
    the database by reference, so they take no arguments)."""

    settings: Settings
    db: Database
    clock: Callable[[], datetime]


RUNTIME: Runtime | None = None


def _runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def _claim_slot(db: Database, job: str, slot: datetime, now: datetime) -> int | None:
    """Record the run of `job` for `slot`; None when that slot already ran."""
    try:
        with db.session() as session:
            run = JobRun(job=job, scheduled_for=slot, started_at=now, runner=_runner())
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        return None


def _finish(db: Database, run_id: int, now: datetime, summary: str) -> None:
    with db.session() as session:
        run = session.get(JobRun, run_id)
        if run is not None:
            run.finished_at = now
            run.summary = summary[:1000]


def sweep() -> None:
    """Every `[scheduler] sweep_seconds`: run each sweep function on what is due."""
    runtime = _runtime()
    now = runtime.clock()
    interval = runtime.settings.scheduler.sweep_seconds
    slot = datetime.fromtimestamp(now.timestamp() // interval * interval, UTC)
    run_id = _claim_slot(runtime.db, SWEEP_ID, slot, now)
    if run_id is None:
        log.info("sweep for %s already ran; skipped", slot.isoformat())
        return
    summaries = []
    for name, func in SWEEPS.items():
        try:
            with runtime.db.session() as session:
                summary = func(session, now, runtime.settings)
        except Exception:
            # One failing sweep must not stop the others; it runs again next time.
            log.exception("sweep %s failed", name)
            summaries.append(f"{name}: failed")
            continue
        if summary:
            summaries.append(f"{name}: {summary}")
    if summaries:
        log.info("sweep: %s", "; ".join(summaries))
    _finish(runtime.db, run_id, runtime.clock(), "; ".join(summaries) or "nothing due")


def housekeeping_slot(now: datetime, at: str, tz: ZoneInfo) -> datetime:
    """The latest scheduled housekeeping time not after `now` (today's or yesterday's)."""
    hour, minute, second = parse_time_of_day(at)
    local = now.astimezone(tz)
    slot = local.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    return slot.astimezone(UTC)


def housekeeping() -> None:
    """Daily: drop sent pushes and job records past `[scheduler] keep_days`; redact texts past
    `[privacy] retain_days`."""
    runtime = _runtime()
    settings = runtime.settings
    now = runtime.clock()
    slot = housekeeping_slot(now, settings.scheduler.housekeeping_at, settings.tz)
    run_id = _claim_slot(runtime.db, HOUSEKEEPING_ID, slot, now)
    if run_id is None:
        log.info("housekeeping for %s already ran; skipped", slot.isoformat())
        return
    cutoff = now - timedelta(days=settings.scheduler.keep_days)
    with runtime.db.session() as session:
        pushes, runs = forget_old(session, cutoff, run_id)
    redacted = retention(runtime.db, now, settings.privacy.retain_days, media_folder(settings))
    summary = f"removed {pushes} old pushes, {runs} job records; {redacted}"
    _finish(runtime.db, run_id, runtime.clock(), summary)
    log.info("housekeeping: %s", summary)


def retention(db: Database, now: datetime, retain_days: int, folder: Path) -> str:
    """`[privacy] retain_days`: redact old closed tickets' texts and inbound messages (audited
    when anything changed); a short summary for the job record."""
    from models.media import known_files
    from models.privacy import audit, drop_expired_attachments, redact_expired

    with db.session() as session:
        counts = redact_expired(session, now, retain_days)
        files = drop_expired_attachments(session, now, retain_days)
        counts["media_files"] = len(files)
        if any(counts.values()):
            audit(session, "retention", "scheduler", now, None, counts)
    # Committed: the files go now. Then any file no attachment names (an erasure or a
    # retention that died before this step) goes too.
    store = MediaStore(folder)
    store.delete(files)
    with db.session(read_only=True) as session:
        orphans = store.sweep(known_files(session.connection()))
    return (
        f"redacted {counts['tickets']} ticket texts, {counts['ticket_notes']} notes, "
        f"{counts['inbound_messages']} messages older than {retain_days} days; "
        f"deleted {len(files)} media files of old tickets and {orphans} unreferenced"
    )


def retrain() -> None:
    """Nightly, at `[scheduler] housekeeping_at`: a new model when at least `[classifier]
    retrain_min_new` tickets were confirmed since the one in use (0: never). Every process
    loads it within `[classifier] reload_seconds`."""
    from ..classify.training import retrain_if_due

    runtime = _runtime()
    settings = runtime.settings
    minimum = settings.classifier.retrain_min_new
    if minimum <= 0:
        return
    now = runtime.clock()
    slot = housekeeping_slot(now, settings.scheduler.housekeeping_at, settings.tz)
    run_id = _claim_slot(runtime.db, RETRAIN_ID, slot, now)
    if run_id is None:
        log.info("retrain for %s already ran; skipped", slot.isoformat())
        return
    try:
        summary = retrain_if_due(runtime.db, now=now, minimum=minimum)
    except Exception:
        log.exception("retrain failed")
        summary = "failed (see the scheduler's log); the model in use stays"
    _finish(runtime.db, run_id, runtime.clock(), summary)
    log.info("retrain: %s", summary)


def morning_digest() -> None:
    """Daily at `[scheduler] digest_at`: each staff member's open and overdue tickets."""
    from models.digest import queue_morning_digest

    runtime = _runtime()
    settings = runtime.settings
    now = runtime.clock()
    slot = housekeeping_slot(now, settings.scheduler.digest_at, settings.tz)
    run_id = _claim_slot(runtime.db, DIGEST_ID, slot, now)
    if run_id is None:
        log.info("digest for %s already ran; skipped", slot.isoformat())
        return
    with runtime.db.session() as session:
        queued = queue_morning_digest(session, now, settings.tz)
    _finish(runtime.db, run_id, runtime.clock(), f"{queued} digests queued")


@register_sweep("conversation_states")
def drop_expired_states(session: Session, now: datetime, settings: Settings) -> str | None:
    """Questions nobody answered in time ("which topic?") are forgotten."""
    removed = drop_states(session, now)
    return f"{removed} expired questions" if removed else None


@register_sweep("seen_requests")
def forget_old_requests(session: Session, now: datetime, settings: Settings) -> str | None:
    """Signed (timestamp, nonce) pairs past the clock-skew window: a request that old is
    refused by its timestamp, so its pair need not be kept (models/seen.py)."""
    from models.seen import forget_seen

    # Twice the window: a row is kept a while after it can no longer matter, whatever the
    # difference between this process's clock and the webhook's.
    before = int(now.timestamp()) - 2 * settings.wechat.max_clock_skew_seconds
    removed = forget_seen(session, before)
    return f"{removed} old request nonces" if removed else None


def _runtime() -> Runtime:
    if RUNTIME is None:
        raise RuntimeError("the scheduler's runtime is not set (run `yishiting scheduler`)")
    return RUNTIME
