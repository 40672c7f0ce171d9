"""Scheduled job runs, one row per job and scheduled time: a run happens at most once.

The scheduler's jobs only change state or queue pushes, idempotently, so running one twice
would do no harm; this table still makes "ran once" provable and visible: a run first inserts
its (job, scheduled_for) row, and a second scheduler that somehow got the same run stops on the
unique key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .outbox import CANCELLED, SENT, OutboxMessage


class JobRun(Base):
    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    runner: Mapped[str] = mapped_column(String(64))  # host:pid
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (UniqueConstraint("job", "scheduled_for", name="uq_job_run_job"),)


def recent_runs(db: Session, job: str | None = None, limit: int = 50) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list(db.scalars(query))


def forget_old(db: Session, before: datetime, keep_run: int) -> tuple[int, int]:
    """Housekeeping: pushes done with (sent, cancelled) and job records from before `before`
    go, except the run doing it; how many of each."""
    pushes = db.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_((SENT, CANCELLED)), OutboxMessage.created_at < before
        )
    )
    runs = db.execute(delete(JobRun).where(JobRun.started_at < before, JobRun.id != keep_run))
    return _count(pushes), _count(runs)


def _count(result: object) -> int:
    assert isinstance(result, CursorResult)
    return result.rowcount
