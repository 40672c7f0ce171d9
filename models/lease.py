"""Work rows a worker holds for a while: the outbox's pushes and the attachments' downloads.

A due row (waiting, or held by a worker whose lease ran out) is claimed by setting its status
to `holding`, the worker's name and the lease's end in its due column, and counting the
attempt. The worker then finishes it (writes the outcome) or gives it back untried; either
changes the row only while this worker still holds it, so a row another worker re-claimed
after the lease ran out is left to that one.

Claiming is atomic on both databases: PostgreSQL's `FOR UPDATE SKIP LOCKED` lets concurrent
workers take different rows without waiting for each other; on SQLite the write transaction
(BEGIN IMMEDIATE, one writer at a time) makes the select-and-update atomic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, Connection, CursorResult, Row, Table, and_, select, update


@dataclass(frozen=True)
class Lease:
    """The columns of one kind of work row, and the statuses it moves through."""

    table: Table
    status: Column[Any]
    claimed_by: Column[Any]
    due: Column[Any]  # when it is due; while held, when the lease ends
    attempts: Column[Any]
    waiting: str  # due when `due` has passed
    holding: str  # held by `claimed_by` until `due`

    def claim(
        self,
        conn: Connection,
        *,
        now: datetime,
        lease_until: datetime,
        worker: str,
        limit: int,
        returning: Sequence[Column[Any]],
    ) -> Sequence[Row[Any]]:
        """Take up to `limit` due rows (the longest due first) for `worker` until
        `lease_until`; their `returning` columns, in no particular order."""
        due = (
            select(self.table.c.id)
            .where(self.status.in_((self.waiting, self.holding)), self.due <= now)
            .order_by(self.due)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        return conn.execute(
            update(self.table)
            .where(self.table.c.id.in_(due.scalar_subquery()))
            .values(
                {
                    self.status: self.holding,
                    self.attempts: self.attempts + 1,
                    self.due: lease_until,
                    self.claimed_by: worker,
                }
            )
            .returning(*returning)
        ).all()

    def finish(self, conn: Connection, row_id: int, *, worker: str, values: dict[str, Any]) -> bool:
        """Write `values` (the outcome; the claim is cleared) if `worker` still holds the row."""
        changed = conn.execute(
            update(self.table)
            .where(self.table.c.id == row_id, self._held_by(worker))
            .values({**values, self.claimed_by.key: None})
        )
        return bool(cast(CursorResult[Any], changed).rowcount)

    def release(self, conn: Connection, ids: Sequence[int], *, worker: str, now: datetime) -> None:
        """Give back rows claimed but not tried (the lease was about to run out): due now, the
        attempt not counted."""
        if not ids:
            return
        conn.execute(
            update(self.table)
            .where(self.table.c.id.in_(ids), self._held_by(worker))
            .values(
                {
                    self.status: self.waiting,
                    self.claimed_by: None,
                    self.due: now,
                    self.attempts: self.attempts - 1,
                }
            )
        )

    def _held_by(self, worker: str) -> Any:
        return and_(self.status == self.holding, self.claimed_by == worker)
