"""议题 at /admin/agenda: the agenda items in the account's scope, and one item's page.

The item's page shows what every stage left: the proposal as written, its backing, the
timeline, and then one part per later stage (meetings, the vote and 公示, 落实 and 评议). A
stage's console module adds its part with `@detail_part("name")`: a function that gives the
part's template (`console/agenda_part_<name>.html`) what it shows, from the item; the parts
are shown in the cycle's order (PART_ORDER). Changes go through the models' stage operations,
as the chat and the CLI do.

立项 is this module's own: an admin accepts a proposal or declines it with a reason (the
proposer and backers are told either way), and may open a 议题 directly (新建议题).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import ConsoleRole
from models.agenda import (
    PROPOSED,
    STAGES,
    AgendaError,
    AgendaItem,
    agenda_by_number,
    backing_counts,
    timeline,
)
from models.agenda_json import agenda_json
from models.proposals import REASON_MAX, TITLE_MAX, accept, create, decline
from models.routing import place_of
from words.agenda import EVENT_NAMES, STAGE_NAMES

from .access import current_scope, guard, requires
from .common import now, ok, page_number, problem, reading, writing, ys
from .scope import chosen_community, communities_shown, in_scope, scoped

__all__ = ["EVENT_NAMES", "PARTS", "STAGE_NAMES", "bp", "detail_part", "item_in_scope"]

bp = Blueprint("console_agenda", __name__, url_prefix="/admin/agenda")
bp.before_request(guard)

PAGE = 50
TEXT_MAX = 5000
TEXTS = {
    "accepted": "议题 #{number} 已立项，已通知提议人和附议的居民。",
    "declined": "议题 #{number} 已不予立项，理由已告知提议人和附议的居民。",
    "already": "议题 #{number} 已经是“{stage}”，无需再次操作。",
    "stage": "议题 #{number} 目前是“{stage}”，不能再立项或不予立项。",
    "reason": "请填写不予立项的理由：提议人和附议的居民会看到它。",
    "reason_long": f"理由最多 {REASON_MAX} 个字。",
    "created": "已创建议题 #{number}「{title}」（已立项）。",
    "title": "请填写议题标题。",
    "title_long": f"标题最多 {TITLE_MAX} 个字。",
    "text_long": f"说明最多 {TEXT_MAX} 个字。",
    "community": "请选择议题所属的社区，或整个街道。",
    "proposed_by": "居民提议（{name}）",
    "opened_by": "居委会新建（{name}）",
    "resident": "住址已解绑的居民",
}

PartFunc = Callable[[Session, AgendaItem], dict[str, Any]]
PARTS: dict[str, PartFunc] = {}
# The parts in the cycle's order, whatever order their modules were imported in.
PART_ORDER = ("meetings", "publicity", "carrying")


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


def _stage_counts(db: Session) -> dict[str, int]:
    query = select(AgendaItem.stage, func.count(AgendaItem.id)).group_by(AgendaItem.stage)
    found = dict(db.execute(scoped(query, AgendaItem.community_id, street_wide=True)).all())
    return {stage: int(found.get(stage, 0)) for stage in STAGES}


def _rows(db: Session, items: list[AgendaItem], names: dict[int, str]) -> list[dict[str, Any]]:
    """What the list shows of each item, with the page's backing in one query (not the whole
    `agenda_json` per row: its meetings, polls, objections and ratings are not shown here)."""
    backing = backing_counts(db, [item.id for item in items])
    tz = ys().settings.tz
    return [
        {
            "number": item.number,
            "title": item.title,
            "stage": item.stage,
            "backing": backing.get(item.id, 0),
            "backing_threshold": item.backing_needed,
            "community": names.get(item.community_id) if item.community_id else None,
            "created_at": item.created_at.astimezone(tz).isoformat(),
        }
        for item in items
    ]


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
        communities = communities_shown(db)
        rows = _rows(db, items[:PAGE], communities)
        counts = _stage_counts(db)
    return render_template(
        "console/agenda.html",
        title="议题",
        rows=rows,
        more=len(items) > PAGE,
        page=number,
        stage=stage,
        stages=STAGE_NAMES,
        counts=counts,
        total=sum(counts.values()),
        show_community=bool(communities),
    )


@bp.route("/<int:number>")
@requires(ConsoleRole.VIEWER)
def show(number: int) -> str:
    settings = ys().settings
    with reading() as db:
        item = item_in_scope(db, number)
        data = agenda_json(db, item, settings.tz, settings.app.public_url)
        events = timeline(db, item.id)
        names = sorted(PARTS, key=lambda n: PART_ORDER.index(n) if n in PART_ORDER else 99)
        parts = {name: PARTS[name](db, item) for name in names}
        source = _source(db, item)
        page = render_template(
            "console/agenda_item.html",
            title=f"议题 #{item.number}",
            item=data,
            events=events,
            parts=parts,
            stages=STAGE_NAMES,
            event_names=EVENT_NAMES,
            # 立项 is the item's community's (a street-wide item: the street's) to decide.
            may_decide=item.stage == PROPOSED and current_scope().owns(item.community_id),
            reason_max=REASON_MAX,
            title_max=TITLE_MAX,
            source=source,
        )
    return page


def _source(db: Session, item: AgendaItem) -> str:
    """Where the item came from, for staff: the proposing resident, or the admin who opened it."""
    if item.proposer_id is None:
        return TEXTS["opened_by"].format(name=item.created_by or "管理员")
    place = place_of(db, item.proposer_id)  # the address staff see on tickets too
    return TEXTS["proposed_by"].format(name=place.label if place is not None else TEXTS["resident"])


@bp.route("/<int:number>/accept", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def accept_item(number: int) -> Response:
    return _decide(number, None)


@bp.route("/<int:number>/decline", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def decline_item(number: int) -> Response:
    return _decide(number, request.form.get("reason", ""))


def _decide(number: int, reason: str | None) -> Response:
    """立项 or 不予立项; what went wrong is said on the item's page."""
    back = redirect(url_for(".show", number=number), code=303)
    with reading() as db:
        item_in_scope(db, number, change=True)  # another community's: 404 before anything
    actor = current_user.display_name
    try:
        with writing() as db:
            item = item_in_scope(db, number, change=True)
            stage = item.stage
            if reason is None:
                title = request.form.get("title")
                moved = accept(db, item, now(), actor=actor, title=title)
            else:
                moved = decline(db, item, reason.strip(), now(), actor=actor)
    except AgendaError as exc:
        stage_name = STAGE_NAMES.get(str(exc.details.get("stage", "")), "")
        problem(TEXTS.get(exc.reason, exc.reason).format(number=number, stage=stage_name))
        return back
    if not moved:
        problem(TEXTS["already"].format(number=number, stage=STAGE_NAMES[stage]))
    else:
        ok(TEXTS["accepted" if reason is None else "declined"].format(number=number))
    return back


def _form_page(values: dict[str, str], errors: dict[str, str], status: int) -> tuple[str, int]:
    with reading() as db:
        communities = communities_shown(db)
    page = render_template(
        "console/agenda_new.html",
        title="新建议题",
        values=values,
        errors=errors,
        communities=communities,
        title_max=TITLE_MAX,
        text_max=TEXT_MAX,
    )
    return page, status


def _check(values: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not values["title"].strip():
        errors["title"] = TEXTS["title"]
    elif len(values["title"].strip()) > TITLE_MAX:
        errors["title"] = TEXTS["title_long"]
    if len(values["text"]) > TEXT_MAX:
        errors["text"] = TEXTS["text_long"]
    return errors


@bp.route("/new", methods=["GET", "POST"])
@requires(ConsoleRole.ADMIN)
def new() -> Response | tuple[str, int]:
    """新建议题: an admin opens a 议题 directly, already on the agenda (立项)."""
    if request.method == "GET":
        return _form_page({"title": "", "text": "", "community": ""}, {}, 200)
    values = {name: str(request.form.get(name, "")) for name in ("title", "text", "community")}
    errors = _check(values)
    with reading() as db:
        community_id = chosen_community(db, values["community"])
        if values["community"] and community_id is None:
            errors["community"] = TEXTS["community"]
    if errors:
        return _form_page(values, errors, 400)
    deliberation = ys().settings.deliberation
    with writing() as db:
        item = create(
            db,
            values["title"],
            values["text"].strip(),
            community_id,
            now(),
            actor=current_user.display_name,
            unit=deliberation.backing_unit,
            threshold=deliberation.backing_threshold,
        )
        number, title = item.number, item.title
    ok(TEXTS["created"].format(number=number, title=title))
    return redirect(url_for(".show", number=number), code=303)
