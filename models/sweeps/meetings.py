"""议事会 in time: those who said 参加 are reminded before the meeting, once.

`[deliberation] meeting_reminder_hours` before a meeting, the invitees who answered 参加 are
pushed a reminder; the meeting records it (`reminded_at`), so the sweep never reminds twice,
and the push's key names the meeting besides. A meeting called later than that window gets
no reminder: its invitation went out moments ago.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..meetings import ATTEND, Meeting, MeetingInvite
from ..outbox import enqueue
from ..pushes import MEETING_REMINDER


def remind_meetings(db: Session, now: datetime, hours: float, tz: tzinfo) -> list[str]:
    """Push those who said 参加 `hours` before each meeting, once (meeting.reminded_at); a
    meeting called inside that window gets none (they have just been invited)."""
    lead = timedelta(hours=hours)
    due = db.scalars(
        select(Meeting).where(
            Meeting.reminded_at.is_(None),
            Meeting.cancelled_at.is_(None),
            Meeting.at > now,
            Meeting.at <= now + lead,
        )
    ).all()
    done = []
    for meeting in due:
        meeting.reminded_at = now
        if meeting.created_at > meeting.at - lead:
            continue
        coming = db.scalars(
            select(MeetingInvite.person_id).where(
                MeetingInvite.meeting_id == meeting.id, MeetingInvite.answer == ATTEND
            )
        ).all()
        at = meeting.at.astimezone(tz).isoformat()
        for person_id in coming:
            push = MEETING_REMINDER.push(
                person_id,
                meeting=meeting.id,
                number=meeting.number,
                title=meeting.title,
                at=at,
                place=meeting.place,
            )
            enqueue(db, push, now)
        done.append(f"#{meeting.number} reminded {len(coming)}")
    return done
