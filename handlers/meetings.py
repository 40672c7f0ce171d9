"""议事会 by chat: invitees answer 参加 M or 请假 M [理由].

Only invitees answer; each may change their answer until the meeting starts (a later answer
replaces the earlier one) and gets a receipt naming the meeting, its time and place. A reason
given with 请假 is kept as written.
"""

from __future__ import annotations

import re

from models.audience import reaches
from models.meeting_ops import CHANGED, SAME, MeetingError, answer
from models.meetings import ATTEND, EXCUSED, Meeting, meeting_by_number
from words import as_number, when

from . import agenda_texts as texts
from .router import Context, Router

router = Router("meetings")

# "2", "#2 出差", "2，出差", "２ 出差": the number, then the reason as written.
_ARGS = re.compile(r"\s*[#＃]?\s*([0-9０-９]+)[\s，,：:。]*(.*)", re.S)


@router.command("参加", help=texts.MEETING_HELP_ATTEND)
def attend(ctx: Context, args: str) -> str:
    return _answer(ctx, args, ATTEND)


@router.command("请假", help=texts.MEETING_HELP_EXCUSED)
def excused(ctx: Context, args: str) -> str:
    return _answer(ctx, args, EXCUSED)


def _answer(ctx: Context, args: str, said: str) -> str:
    found = _ARGS.match(args)
    number = as_number(found.group(1)) if found else None
    if found is None or number is None:
        return texts.MEETING_USAGE
    reason = found.group(2).strip()
    meeting = meeting_by_number(ctx.db, number)
    if meeting is None:
        return texts.MEETING_NOT_FOUND.format(number=number)
    values = _values(ctx, meeting)
    try:
        outcome = answer(ctx.db, meeting, ctx.person.id, said, ctx.now, reason)
    except MeetingError as exc:
        if exc.reason == "not_invited":
            # Another community's meeting is not there for them at all, like its 议题.
            if not reaches(ctx.db, meeting.community_id, ctx.person.id):
                return texts.MEETING_NOT_FOUND.format(number=number)
            return texts.MEETING_NOT_INVITED
        if exc.reason == "cancelled":
            return texts.MEETING_CANCELLED.format(**values)
        return texts.MEETING_STARTED.format(**values)
    if outcome == SAME:
        same = texts.MEETING_SAME_ATTEND if said == ATTEND else texts.MEETING_SAME_EXCUSED
        return same.format(**values)
    if said == ATTEND:
        reply = texts.MEETING_ATTEND.format(**values)
    else:
        noted = texts.MEETING_REASON.format(reason=reason) if reason else ""
        reply = texts.MEETING_EXCUSED.format(**values, reason=noted)
    return reply + (texts.MEETING_CHANGED if outcome == CHANGED else "")


def _values(ctx: Context, meeting: Meeting) -> dict[str, object]:
    return {
        "number": meeting.number,
        "title": meeting.title,
        "at": when(meeting.at, ctx.tz),
        "place": meeting.place,
    }
