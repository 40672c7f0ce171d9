"""Copies of the photos, voice and video residents attach: the download job of each.

WeChat deletes a message's media after about 3 days, so the attachment row (tickets.py) is
also a job: `attach` queues it (`pending`), a worker claims it with a lease (`fetching`),
downloads it through WeChat's temporary-media API and records the outcome. The life of one:

    pending --claim--> fetching --stored----> stored    (the file is in [media] dir)
                          |------retry-----> pending   (media_due_at later)
                          |------too_large-> too_large (over [media] max_bytes: not kept)
                          |------bad_type--> bad_type  (not an image, audio or video)
                          |------failed----> failed    (WeChat refused it, or too many tries)
                          |------id_only---> id_only   (no app secret: nothing to ask)

Why not an outbox row: a push is rendered for a person and routed through channels with
budgets, holds and cancellations, none of which a download has; and the state belongs where
the console and an erasure look for it, next to the attachment. The retry policy is the
outbox's (the worker's backoff and `[delivery] max_attempts`), and so is the lease.

No I/O here: the file itself is written and deleted by bot/media; these functions only say
which files exist, so the caller deletes them after its transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from .lease import Lease
from .people import Person
from .tickets import Attachment, Ticket

PENDING = "pending"
FETCHING = "fetching"
STORED = "stored"
TOO_LARGE = "too_large"
BAD_TYPE = "bad_type"
FAILED = "failed"
ID_ONLY = "id_only"
WAITING = (PENDING, FETCHING)
# What an outcome may set (the claim sets FETCHING, a retry PENDING).
OUTCOMES = (STORED, TOO_LARGE, BAD_TYPE, FAILED, ID_ONLY)

_T = cast(Table, Attachment.__table__)
LEASE = Lease(
    _T,
    status=_T.c.media_status,
    claimed_by=_T.c.media_claimed_by,
    due=_T.c.media_due_at,
    attempts=_T.c.media_attempts,
    waiting=PENDING,
    holding=FETCHING,
)


@dataclass(frozen=True)
class Job:
    """A download a worker holds until its lease ends."""

    id: int
    kind: str
    data: str  # the attachment's JSON (the media id is "mediaid")
    attempts: int  # including this one


def any_due(conn: Connection, now: datetime) -> bool:
    """Whether a download is due: a read on the partial index, so an idle worker never takes
    the write lock (SQLite) just to find nothing."""
    due = select(_T.c.id).where(_T.c.media_status.in_(WAITING), _T.c.media_due_at <= now)
    return conn.execute(due.limit(1)).first() is not None


def claim_due(
    conn: Connection, *, now: datetime, lease_until: datetime, worker: str, limit: int
) -> list[Job]:
    """Take up to `limit` due downloads for `worker` until `lease_until` (models/lease.py)."""
    rows = LEASE.claim(
        conn,
        now=now,
        lease_until=lease_until,
        worker=worker,
        limit=limit,
        returning=(_T.c.id, _T.c.kind, _T.c.data, _T.c.media_attempts),
    )
    return sorted((Job(r.id, r.kind, r.data, r.media_attempts) for r in rows), key=lambda j: j.id)


def accounts_of(conn: Connection, ids: Sequence[int]) -> dict[int, str | None]:
    """The account (`person.account`) each attachment was sent on: its media id is that
    account's, downloadable with that account's token only. Missing ids: no person (None)."""
    if not ids:
        return {}
    rows = conn.execute(
        select(_T.c.id, Person.account)
        .join(Ticket, Ticket.id == _T.c.ticket_id)
        .join(Person, Person.id == Ticket.person_id)
        .where(_T.c.id.in_(ids))
    )
    return {row.id: row.account for row in rows}


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed download."""

    id: int
    status: str  # one of OUTCOMES, or PENDING (retry at `retry_at`)
    error: str | None = None
    file: str | None = None
    content_type: str | None = None
    size: int | None = None
    retry_at: datetime | None = None


def record(conn: Connection, outcome: Outcome, *, worker: str) -> bool:
    """Write one outcome; False when the worker no longer holds the row (erased meanwhile,
    or its lease ran out and another worker took it): then the caller deletes its file."""
    values: dict[str, Any] = {
        "media_status": outcome.status,
        "media_error": outcome.error[:500] if outcome.error else None,
        "media_due_at": outcome.retry_at,
    }
    if outcome.status == STORED:
        values.update(
            media_file=outcome.file, media_type=outcome.content_type, media_bytes=outcome.size
        )
    elif outcome.size is not None:
        values["media_bytes"] = outcome.size  # what was refused: the page says how big
        values["media_type"] = outcome.content_type
    elif outcome.content_type is not None:
        values["media_type"] = outcome.content_type
    return LEASE.finish(conn, outcome.id, worker=worker, values=values)


def release(conn: Connection, ids: Sequence[int], *, worker: str, now: datetime) -> None:
    """Give back downloads claimed but not tried (the lease was about to run out)."""
    LEASE.release(conn, ids, worker=worker, now=now)


def files_of(conn: Connection, ticket_ids: Any) -> list[str]:
    """The stored files of these tickets' attachments (`ticket_ids`: a list or a subquery)."""
    return list(
        conn.scalars(
            select(_T.c.media_file).where(
                _T.c.ticket_id.in_(ticket_ids), _T.c.media_file.is_not(None)
            )
        )
    )


def stored_file(conn: Connection, ticket_number: int, attachment_id: int) -> tuple[str, str] | None:
    """(file name, content type) of a stored attachment of ticket #`ticket_number`."""
    row = conn.execute(
        select(_T.c.media_file, _T.c.media_type)
        .join(Ticket, Ticket.id == _T.c.ticket_id)
        .where(
            Ticket.number == ticket_number,
            _T.c.id == attachment_id,
            _T.c.media_status == STORED,
            _T.c.media_file.is_not(None),
        )
    ).first()
    return (str(row[0]), str(row[1] or "application/octet-stream")) if row else None


def known_files(conn: Connection) -> set[str]:
    """Every file name an attachment refers to (the orphan sweep keeps exactly these)."""
    return set(conn.scalars(select(_T.c.media_file).where(_T.c.media_file.is_not(None))))
