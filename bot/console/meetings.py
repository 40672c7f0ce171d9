"""议事会 at /admin/meetings: the meetings in the account's scope, calling one, one meeting's
page (its agenda, who answered 参加 / 请假, by name) and its minutes (纪要) form; and the
part of the 议题 page that lists the item's meetings.

Everything goes through models/meeting_ops.py, as `yishiting meeting …` and the chat do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import ConsoleRole
from models.agenda import AgendaItem
from models.meeting_minutes import ItemMinutes, Minutes, record_minutes
from models.meeting_ops import (
    MEETABLE,
    MeetingError,
    MeetingSpec,
    agenda_of,
    call_meeting,
    invite_rows,
)
from models.meeting_reps import describe
from models.meetings import ATTEND, EXCUSED, Meeting, MeetingAgenda, meeting_by_number, meeting_json

from . import meetings_texts as texts
from .access import current_scope, guard, requires
from .agenda import STAGE_NAMES, detail_part
from .common import now, ok, problem, reading, writing, ys
from .scope import in_scope, scoped

bp = Blueprint("console_meetings", __name__, url_prefix="/admin/meetings")
bp.before_request(guard)


def _by() -> str:
    """Who the record names as acting: the signed-in account's person or username."""
    return str(current_user.display_name)[:64]


def meeting_in_scope(db: Session, number: int, *, change: bool = False) -> Meeting:
    """The meeting if the account may see it (`change`: act on it); else 404 (403 for a
    street-wide one a community account may only read)."""
    found = meeting_by_number(db, number)
    if found is None:
        abort(404)
    in_scope(found.community_id, change=change, street_wide=True)
    return found


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    tz = ys().settings.tz
    with reading() as db:
        query = scoped(select(Meeting), Meeting.community_id, street_wide=True)
        found = db.scalars(query.order_by(Meeting.at.desc(), Meeting.number.desc()).limit(200))
        rows = [meeting_json(db, m, tz) | {"when": m.at} for m in found]
    return render_template("console/meetings.html", title="议事会", rows=rows)


def _meetable(db: Session) -> list[AgendaItem]:
    query = scoped(select(AgendaItem), AgendaItem.community_id, street_wide=True)
    query = query.where(AgendaItem.stage.in_(MEETABLE)).order_by(AgendaItem.number)
    items = list(db.scalars(query))
    scope = current_scope()
    return [item for item in items if scope.owns(item.community_id)]


def _form_page(values: dict[str, Any], errors: list[str], status: int) -> tuple[str, int]:
    with reading() as db:
        items = [(i.number, i.title, STAGE_NAMES[i.stage]) for i in _meetable(db)]
    page = render_template(
        "console/meeting_new.html", title="召开议事会", values=values, errors=errors, items=items
    )
    return page, status


def _invite_spec(form: Any) -> str:
    parts = [kind for kind in ("reps", "all") if form.get(kind)]
    grid = form.get("grid", "").strip()
    buildings = form.get("buildings", "").strip()
    if grid:
        parts.append(f"grid:{grid}")
    if buildings:
        parts.append(f"building:{buildings}")
    return ",".join(parts)


def _when(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    tz = ys().settings.tz
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


@bp.route("/new", methods=["GET", "POST"])
@requires(ConsoleRole.ADMIN)
def new() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _form_page({"reps": True}, [], 200)
    form = request.form
    values: dict[str, Any] = {k: form.get(k, "") for k in ("title", "at", "place", "grid")}
    values |= {"buildings": form.get("buildings", ""), "reps": bool(form.get("reps"))}
    values |= {"all": bool(form.get("all")), "agenda": form.getlist("agenda")}
    at = _when(values["at"])
    numbers = [int(n) for n in values["agenda"] if n.isascii() and n.isdigit() and len(n) < 10]
    if at is None:
        return _form_page(values, [texts.BAD_TIME], 400)
    by = _by()
    spec = MeetingSpec(values["title"], at, values["place"], numbers, _invite_spec(form), by)
    try:
        with writing() as db:
            called = call_meeting(db, spec, current_scope().community_id, now(), ys().settings.tz)
            number, title = called.number, called.title
    except MeetingError as exc:
        return _form_page(values, [texts.refusal(exc)], 400)
    ok(texts.CALLED.format(number=number, title=title))
    return redirect(url_for(".show", number=number), code=303)


def _answers(db: Session, found: Meeting) -> dict[str, list[tuple[str, str]]]:
    groups: dict[str, list[tuple[str, str]]] = {ATTEND: [], EXCUSED: [], "none": []}
    for invite, person in invite_rows(db, found):
        groups[invite.answer or "none"].append((describe(db, person), invite.reason or ""))
    return groups


@bp.route("/<int:number>")
@requires(ConsoleRole.VIEWER)
def show(number: int) -> str:
    tz = ys().settings.tz
    with reading() as db:
        found = meeting_in_scope(db, number)
        page = render_template(
            "console/meeting.html",
            title=f"议事会 #{found.number}",
            meeting=found,
            data=meeting_json(db, found, tz),
            agenda=agenda_of(db, found),
            answers=_answers(db, found),
            stages=STAGE_NAMES,
            may_change=current_scope().owns(found.community_id),
            held=now() >= found.at,
        )
    return page


def _minutes_from(form: Any, numbers: list[int]) -> Minutes | str:
    items = {}
    for number in numbers:
        summary = form.get(f"summary_{number}", "").strip()
        outcome = form.get(f"outcome_{number}", "").strip()
        if summary and not outcome:
            return texts.NO_OUTCOME.format(number=number)
        if outcome:
            items[number] = ItemMinutes(summary, outcome)
    return Minutes(form.get("attendees", "").strip(), form.get("minutes", "").strip(), items)


@bp.route("/<int:number>/minutes", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def minutes(number: int) -> Response:
    refused, first = "", False
    with writing() as db:
        found = meeting_in_scope(db, number, change=True)
        written = _minutes_from(request.form, [item.number for _, item in agenda_of(db, found)])
        if isinstance(written, str):
            refused = written
        else:
            try:
                first = record_minutes(db, found, written, _by(), now())
            except MeetingError as exc:
                refused = texts.refusal(exc)
    if refused:
        problem(refused)
    else:
        ok((texts.MINUTES_FIRST if first else texts.MINUTES_AGAIN).format(number=number))
    return redirect(url_for(".show", number=number), code=303)


@detail_part("meetings")
def item_meetings(db: Session, item: AgendaItem) -> dict[str, Any]:
    """The 议题 page's part: the meetings that took the item up, with what they said of it."""
    rows = db.execute(
        select(Meeting, MeetingAgenda)
        .join(MeetingAgenda, MeetingAgenda.meeting_id == Meeting.id)
        .where(MeetingAgenda.agenda_id == item.id)
        .order_by(Meeting.at)
    ).all()
    return {"rows": [(m, row) for m, row in rows], "may_call": item.stage in MEETABLE}
