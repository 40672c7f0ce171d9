"""议题 at /admin/agenda: the agenda items in the account's scope, and one item's page.

The item's page shows what every stage left: the proposal as written, its backing, the
timeline, and then one part per later stage (meetings, the vote and 公示, 落实 and 评议). A
stage's console module adds its part with `@detail_part("name")`: a function that gives the
part's template (`console/agenda_part_<name>.html`) what it shows, from the item; the parts
are shown in the order they were registered. Changes go through the models' stage operations,
as the chat and the CLI do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ConsoleRole
from models.agenda import STAGES, AgendaItem, agenda_by_number, timeline
from models.agenda_json import agenda_json

from .access import guard, requires
from .common import page_number, reading, ys
from .scope import in_scope, scoped

bp = Blueprint("console_agenda", __name__, url_prefix="/admin/agenda")
bp.before_request(guard)

PAGE = 50
STAGE_NAMES = {
    "proposed": "待立项",
    "declined": "不予立项",
    "accepted": "已立项",
    "deliberating": "协商中",
    "voting": "表决中",
    "publicised": "公示中",
    "carrying_out": "落实中",
    "done": "已完成",
    "withdrawn": "已撤回",
}
EVENT_NAMES = {
    **STAGE_NAMES,
    "proposed": "提议",
    "threshold": "附议达到门槛",
    "meeting": "列入议事会",
    "minutes": "议事会纪要",
    "poll": "发起表决",
    "objection": "异议",
    "confirmed": "确认决定",
    "assigned": "明确落实责任",
    "progress": "落实进展",
    "overdue": "落实逾期",
    "review": "回头看",
}

PartFunc = Callable[[Session, AgendaItem], dict[str, Any]]
PARTS: dict[str, PartFunc] = {}


def detail_part(name: str) -> Callable[[PartFunc], PartFunc]:
    """Register a stage's part of the item page (see the module's docstring)."""

    def add(func: PartFunc) -> PartFunc:
        PARTS[name] = func
        return func

    return add


def item_in_scope(db: Session, number: int, *, change: bool = False) -> AgendaItem:
    """The item numbered `number` if the account may see it (`change`: act on it); else 404
    (403 for a street-wide item a community account may only read)."""
    item = agenda_by_number(db, number)
    if item is None:
        abort(404)
    in_scope(item.community_id, change=change, street_wide=True)
    return item


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    stage = request.args.get("stage") or None
    if stage not in (None, *STAGES):
        stage = None
    number = page_number(request.args.get("page"))
    with reading() as db:
        query = scoped(select(AgendaItem), AgendaItem.community_id, street_wide=True)
        if stage is not None:
            query = query.where(AgendaItem.stage == stage)
        query = query.order_by(AgendaItem.number.desc()).offset((number - 1) * PAGE)
        items = list(db.scalars(query.limit(PAGE + 1)))
        rows = [agenda_json(db, item, ys().settings.tz) for item in items[:PAGE]]
    return render_template(
        "console/agenda.html",
        title="议题",
        rows=rows,
        more=len(items) > PAGE,
        page=number,
        stage=stage,
        stages=STAGE_NAMES,
    )


@bp.route("/<int:number>")
@requires(ConsoleRole.VIEWER)
def show(number: int) -> str:
    settings = ys().settings
    with reading() as db:
        item = item_in_scope(db, number)
        data = agenda_json(db, item, settings.tz, settings.app.public_url)
        events = timeline(db, item.id)
        parts = {name: func(db, item) for name, func in PARTS.items()}
        page = render_template(
            "console/agenda_item.html",
            title=f"议题 #{item.number}",
            item=data,
            events=events,
            parts=parts,
            stages=STAGE_NAMES,
            event_names=EVENT_NAMES,
        )
    return page
