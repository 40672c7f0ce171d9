"""The outbox: every push a domain change causes, recorded in the change's own transaction.

A push is a row, not a call: `enqueue` inserts it next to the ticket, ballot or announcement
that caused it, so a push exists exactly when its cause was committed. The dedupe key is
unique, so the same event never queues twice (a job that runs again, a retried command).
Each kind of push is declared once in models/pushes.py (`KIND.push(person_id, **values)`
makes the `Push`, key included); bot/delivery/templates.py puts each kind in words.

A worker (bot/delivery/worker.py) claims due rows with a lease, sends them, and records the
outcome. The life of a row:

    pending --claim--> sending --sent--> sent
                          |----retry---> pending (next_attempt_at later)
                          |----held----> held     (shown with the person's next reply)
                          |----dead----> dead     (permanent error or too many tries)
    held --the person writes--> sent (channel "reply")
    dead --`outbox retry`--> pending

A claim sets `next_attempt_at` to the end of the lease: if the worker dies, the row is due
again when the lease runs out, so nothing is lost (the batch in flight may be sent twice).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Connection,
    CursorResult,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .lease import Lease
from .people import Person
from .prepared import Prepared

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
HELD = "held"
DEAD = "dead"
CANCELLED = "cancelled"
STATUSES = (PENDING, SENDING, SENT, HELD, DEAD, CANCELLED)


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))  # e.g. "notice", "ticket.assigned"
    # The person it is for; None for a broadcast (its openids are in the payload).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # ids and values, never rendered text
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)  # how it went out
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Rows with the same order key are sent one after another, oldest first (a webhook's
    # deliveries about one ticket: "w<subscription>:t<ticket>"); None for pushes.
    order_key: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        # The worker's question: which rows are due?
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # The worker's question before a webhook delivery: is an older one still unsent?
        Index(
            "ix_outbox_order",
            "order_key",
            "id",
            sqlite_where=text("order_key IS NOT NULL"),
            postgresql_where=text("order_key IS NOT NULL"),
        ),
        # The conversation's question: does this person have pushes waiting for a reply?
        # Only held rows are in it, so queuing a push does not write this index.
        Index(
            "ix_outbox_held",
            "person_id",
            sqlite_where=text("status = 'held'"),
            postgresql_where=text("status = 'held'"),
        ),
    )


_TABLE = cast(Table, OutboxMessage.__table__)
LEASE = Lease(
    _TABLE,
    status=_TABLE.c.status,
    claimed_by=_TABLE.c.claimed_by,
    due=_TABLE.c.next_attempt_at,
    attempts=_TABLE.c.attempts,
    waiting=PENDING,
    holding=SENDING,
)


@dataclass(frozen=True)
class Push:
    """One push to record: what happened (kind + payload), for whom, and its dedupe key."""

    kind: str
    person_id: int | None
    payload: Mapping[str, Any]
    dedupe_key: str


def _insert_ignoring_duplicates(dialect: Any) -> Any:
    return (
        dialect.insert(_TABLE)
        .values(
            kind=bindparam("kind"),
            person_id=bindparam("person_id"),
            payload=bindparam("payload", type_=JSON),
            dedupe_key=bindparam("dedupe_key"),
            status=PENDING,
            attempts=0,
            next_attempt_at=bindparam("now", type_=UTCDateTime()),
            created_at=bindparam("now", type_=UTCDateTime()),
        )
        .on_conflict_do_nothing(index_elements=[_TABLE.c.dedupe_key])
        .returning(_TABLE.c.id)
    )


_ENQUEUE = {
    "sqlite": Prepared(_insert_ignoring_duplicates(sqlite)),
    "postgresql": Prepared(_insert_ignoring_duplicates(postgresql)),
}


def enqueue(db: Session | Connection, push: Push, now: datetime) -> int | None:
    """Record `push`, due now. Returns its id, or None when its dedupe key was already queued.

    Call it inside the transaction of the change that causes the push.
    """
    conn = db.connection() if isinstance(db, Session) else db
    rows = _ENQUEUE[conn.dialect.name].run(
        conn,
        {
            "kind": push.kind,
            "person_id": push.person_id,
            "payload": dict(push.payload),
            "dedupe_key": push.dedupe_key,
            "now": now,
        },
    )
    return int(rows[0][0]) if rows else None


def enqueue_many(db: Session, pushes: Iterable[Push], now: datetime) -> int:
    """Record many pushes; returns how many were new (duplicates are skipped)."""
    return sum(1 for push in pushes if enqueue(db, push, now) is not None)


@dataclass(frozen=True)
class Claimed:
    """A row a worker holds until its lease ends."""

    id: int
    kind: str
    person_id: int | None
    payload: dict[str, Any]
    attempts: int  # including this one


def claim_due(
    conn: Connection, *, now: datetime, lease_until: datetime, worker: str, limit: int
) -> list[Claimed]:
    """Take up to `limit` due rows for `worker` until `lease_until` (models/lease.py)."""
    rows = LEASE.claim(
        conn,
        now=now,
        lease_until=lease_until,
        worker=worker,
        limit=limit,
        returning=(
            _TABLE.c.id,
            _TABLE.c.kind,
            _TABLE.c.person_id,
            _TABLE.c.payload,
            _TABLE.c.attempts,
        ),
    )
    claimed = [Claimed(r.id, r.kind, r.person_id, r.payload, r.attempts) for r in rows]
    claimed.sort(key=lambda c: c.id)  # oldest first: pushes to one person stay in order
    return claimed


@dataclass(frozen=True)
class Result:
    """What became of one claimed row."""

    id: int
    status: str  # SENT, PENDING (retry), HELD or DEAD
    channel: str | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None  # for a retry


def record_results(
    conn: Connection, results: Sequence[Result], *, worker: str, now: datetime
) -> int:
    """Write the outcomes of a batch. Only rows this worker still holds are changed.

    Returns how many rows were updated (a row another worker re-claimed after our lease ran
    out is left to that worker).
    """
    changed = 0
    # The common outcome, sent with no error, is written in one statement per channel.
    sent: dict[str, list[int]] = {}
    for result in results:
        if result.status == SENT and result.error is None and result.next_attempt_at is None:
            sent.setdefault(result.channel or "", []).append(result.id)
    for channel, ids in sent.items():
        done_values: dict[str, Any] = {"status": SENT, "last_error": None, "sent_at": now}
        if channel:
            done_values["channel"] = channel
        outcome = conn.execute(
            update(_TABLE)
            .where(_TABLE.c.id.in_(ids), _TABLE.c.status == SENDING, _TABLE.c.claimed_by == worker)
            .values(claimed_by=None, **done_values)
        )
        changed += int(cast(CursorResult[Any], outcome).rowcount)
    done = {i for ids in sent.values() for i in ids}
    for result in results:
        if result.id in done:
            continue
        values: dict[str, Any] = {"status": result.status, "last_error": result.error}
        if result.channel is not None:
            values["channel"] = result.channel
        if result.status == SENT:
            values["sent_at"] = now
        if result.next_attempt_at is not None:
            values["next_attempt_at"] = result.next_attempt_at
        changed += LEASE.finish(conn, result.id, worker=worker, values=values)
    return changed


def release(conn: Connection, ids: Sequence[int], *, worker: str, now: datetime) -> None:
    """Give back rows claimed but not attempted (the lease was about to run out)."""
    LEASE.release(conn, ids, worker=worker, now=now)


_HELD = Prepared(
    select(_TABLE.c.id, _TABLE.c.kind, _TABLE.c.payload)
    .where(_TABLE.c.person_id == bindparam("person_id"), _TABLE.c.status == HELD)
    .order_by(_TABLE.c.id)
    .limit(bindparam("limit"))
)


def take_held(
    conn: Connection, person_id: int, now: datetime, *, limit: int = 3
) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
    """The oldest pushes waiting for this person's next reply, marked as sent with it, and
    whether more are still waiting.

    Call it in the transaction that records the reply, so a push is shown exactly once.
    """
    rows = _HELD.run(conn, {"person_id": person_id, "limit": limit + 1})
    more = len(rows) > limit
    from .people import Person

    conn.execute(
        update(cast(Table, Person.__table__))
        .where(Person.id == person_id)
        .values(held_pushes=1 if more else 0)
    )
    if not rows:
        return [], False
    rows = rows[:limit]
    ids = [row[0] for row in rows]
    conn.execute(
        update(_TABLE)
        .where(_TABLE.c.id.in_(ids), _TABLE.c.status == HELD)
        .values(status=SENT, channel="reply", sent_at=now, last_error=None)
    )
    return [(kind, _json(payload)) for _id, kind, payload in rows], more


def _json(value: Any) -> dict[str, Any]:
    """The payload column as a dict (the driver-level select returns SQLite's JSON as text)."""
    if isinstance(value, str):
        import json

        return cast(dict[str, Any], json.loads(value))
    return cast(dict[str, Any], value)


def retry(db: Session, ids: Sequence[int], now: datetime) -> int:
    """Put dead (or held) rows back in the queue, due now, with a fresh count of tries."""
    outcome = db.execute(
        update(_TABLE)
        .where(_TABLE.c.id.in_(ids), _TABLE.c.status.in_((DEAD, HELD)))
        .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_by=None)
    )
    return int(cast(CursorResult[Any], outcome).rowcount)


def cancel_for(db: Session, person_id: int, reason: str = "cancelled") -> int:
    """Cancel the queued (not yet sent) pushes to a person: pending and held rows become
    cancelled, which no worker sends and `outbox retry` does not revive. A row a worker is
    sending right now is left to it. Returns how many were cancelled."""
    conn = db.connection()
    outcome = conn.execute(
        update(_TABLE)
        .where(_TABLE.c.person_id == person_id, _TABLE.c.status.in_((PENDING, HELD)))
        .values(status=CANCELLED, last_error=reason)
    )
    conn.execute(
        update(cast(Table, Person.__table__)).where(Person.id == person_id).values(held_pushes=0)
    )
    return int(cast(CursorResult[Any], outcome).rowcount)


def of_community(community_id: int) -> Any:
    """The condition for rows of `community_id`: those for its people, and those for no
    person that name it in their payload (a webhook delivery: its ticket's or 议题's
    community, models/api/webhooks.py). A broadcast names none: it is the street's."""
    people = select(Person.id).where(Person.community_id == community_id)
    named = OutboxMessage.payload["community_id"].as_integer() == community_id
    return or_(
        OutboxMessage.person_id.in_(people),
        and_(OutboxMessage.person_id.is_(None), named),
    )


def _of_community(query: Any, community_id: int | None) -> Any:
    """Rows of `community_id` (None: every row; see `of_community`)."""
    if community_id is None:
        return query
    return query.where(of_community(community_id))


def list_outbox(
    db: Session, *, status: str | None = None, limit: int = 100, community_id: int | None = None
) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list(db.scalars(_of_community(query, community_id)))


def counts_by_status(db: Session, community_id: int | None = None) -> dict[str, int]:
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    rows = db.execute(_of_community(query, community_id)).all()
    return {status: int(count) for status, count in rows}


# What the console lists: the rows someone may need to look at (not sent, not cancelled).
NEEDS_LOOK = (DEAD, HELD, PENDING, SENDING)


@dataclass(frozen=True)
class OutboxRow:
    """An outbox row with its recipient, as the console lists it."""

    message: OutboxMessage
    openid: str | None
    name: str | None


def outbox_page(
    db: Session,
    statuses: Sequence[str],
    *,
    before_id: int | None = None,
    limit: int = 50,
    community_id: int | None = None,
) -> list[OutboxRow]:
    """Rows in these states, newest first, older than `before_id` (keyset paging)."""
    query = (
        select(OutboxMessage, Person.openid, Person.name)
        .outerjoin(Person, Person.id == OutboxMessage.person_id)
        .where(OutboxMessage.status.in_(list(statuses)))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(OutboxMessage.id < before_id)
    query = _of_community(query, community_id)
    return [OutboxRow(m, openid, name) for m, openid, name in db.execute(query)]


def retry_all_dead(db: Session, now: datetime, community_id: int | None = None) -> int:
    """Put every dead row (of `community_id`'s people, when given) back in the queue, due
    now, with a fresh count of tries."""
    query = update(_TABLE).where(_TABLE.c.status == DEAD)
    if community_id is not None:
        query = query.where(of_community(community_id))
    outcome = db.execute(
        query.values(status=PENDING, attempts=0, next_attempt_at=now, claimed_by=None)
    )
    return int(cast(CursorResult[Any], outcome).rowcount)
