"""诉求: the filterable list of tickets, one ticket with its timeline, and the staff's moves.

GET /admin/tickets (viewer): ?status= &topic= &grid= &assignee= (ids, or `none`) &overdue=1
&q= (a number or words) &page=; GET /admin/tickets/<number> (viewer); POST
/admin/tickets/<number>/<accept|note|resolve|reject|reassign|callback> (staff), each the
domain operation the chat's command calls (tickets_actions.py); GET/POST /admin/tickets/new
(staff): 代居民登记, a report taken down for a resident (tickets_new.py).
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from models import ConsoleRole
from models.lifecycle import TRANSITIONS
from models.tickets import OPEN_STATUSES
from words import ACTION_NAMES, STATUS_NAMES
from words.addresses import spot_reason, spot_text
from words.channels import (
    CALLBACK_RESULTS,
    CHANNEL_NAMES,
    HOTLINE,
    ORDER_NUMBER,
    SOURCE_GROUPS,
    order_mark,
)

from . import tickets_new
from .access import current_scope, guard, requires
from .common import now, ok, problem, reading, writing, ys
from .scope import chosen_community, communities_shown, in_scope
from .tickets_actions import ACTIONS, Refused, perform
from .tickets_query import NONE, OPEN, PAGE_SIZE, Filters, choices, ticket_detail, ticket_page
from .tickets_why import topic_story

bp = Blueprint("console_tickets", __name__, url_prefix="/admin/tickets")
bp.before_request(guard)
bp.add_url_rule("/new", "new", tickets_new.new, methods=["GET", "POST"])

# How the timeline names each kind of event (the moves' names come from the chat's texts).
EVENT_NAMES = {
    **ACTION_NAMES,
    "filed": "登记",
    "note": "备注",
    "reassigned": "转派",
    "topic_chosen": "居民选择类别",
    "retopic": "更改类别",
    "triage": "无人认领提醒",
    "escalate": "逾期升级",
    "rated": "居民评价",
    "reopened": "重新打开",
    "warned": "时限提醒",
    "reminded": "提醒评价",
    "followup": "回头看",
    "on_behalf": "代居民登记",
    "callback": "电话回访",
}
# Notes the domain writes for machines, as people read them.
NOTE_NAMES = {
    "assigned: topic+grid": "按类别和网格分派",
    "assigned: grid worker": "分派给网格员",
    "assigned: topic": "按类别分派",
    "assigned: supervisor": "分派给值班负责人",
    "assigned: triage": "暂无对应工作人员，进入待分派队列",
    "rating 1": "评价：满意",
    "rating 2": "评价：基本满意",
    "rating 3": "评价：不满意",
}
RATING_NAMES = {1: "满意", 2: "基本满意", 3: "不满意"}
ATTACHMENT_NAMES = {
    "image": "图片",
    "location": "位置",
    "voice": "语音",
    "video": "视频",
    "shortvideo": "视频",
}
BAD_FILTER = "筛选条件“{name}”无效，已忽略。"
FILTER_NAMES = {
    "status": "状态",
    "topic": "类别",
    "grid": "网格",
    "assignee": "办理人",
    "page": "页码",
    "channel": "渠道",
    "source": "来源",
}
# A platform's work order: how its timeline names its filing and its 退回 (12345: 退单).
ORDER_EVENT_NAMES = {"filed": "平台派单", "reject": "退回平台（不属于本社区）"}
HOTLINE_EVENT_NAMES = {"filed": "12345派单", "reject": "退单（不属于本社区）"}


def event_names(source: str | None) -> dict[str, str]:
    """The timeline's names for a ticket from `source` (None: filed in the account)."""
    if not source:
        return EVENT_NAMES
    return {**EVENT_NAMES, **(HOTLINE_EVENT_NAMES if source == HOTLINE else ORDER_EVENT_NAMES)}


def _id_or_none(args: MultiDict[str, str], name: str, errors: list[str]) -> int | str | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if value == NONE and name != "grid":
        return NONE
    if value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    errors.append(BAD_FILTER.format(name=FILTER_NAMES[name]))
    return None


def _channel(args: MultiDict[str, str], errors: list[str]) -> str | None:
    value = (args.get("channel") or "").strip() or None
    if value is not None and value not in CHANNEL_NAMES:
        errors.append(BAD_FILTER.format(name=FILTER_NAMES["channel"]))
        return None
    return value


def _source(args: MultiDict[str, str], errors: list[str]) -> str | None:
    value = (args.get("source") or "").strip() or None
    if value is not None and value not in SOURCE_GROUPS:
        errors.append(BAD_FILTER.format(name=FILTER_NAMES["source"]))
        return None
    return value


def parse_filters(args: MultiDict[str, str]) -> tuple[Filters, int, list[str]]:
    """The filters and page the query string asks for, and what was wrong with it."""
    errors: list[str] = []
    status = (args.get("status") or "").strip() or None
    if status is not None and status != OPEN and status not in STATUS_NAMES:
        errors.append(BAD_FILTER.format(name=FILTER_NAMES["status"]))
        status = None
    grid = _id_or_none(args, "grid", errors)
    page = _id_or_none(args, "page", errors)
    filters = Filters(
        status=status,
        topic=_id_or_none(args, "topic", errors),
        grid=grid if isinstance(grid, int) else None,
        assignee=_id_or_none(args, "assignee", errors),
        overdue=args.get("overdue") == "1",
        q=(args.get("q") or "").strip()[:50] or None,
        channel=_channel(args, errors),
        source=_source(args, errors),
    )
    return filters, page if isinstance(page, int) and page >= 1 else 1, errors


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    filters, page, errors = parse_filters(request.args)
    moment = now()
    with reading() as db:
        filters = replace(filters, community=chosen_community(db, request.args.get("community")))
        rows, total = ticket_page(db, filters, moment, page)
        options = choices(db, current_scope())
        communities = communities_shown(db)
    pages = max(1, -(-total // PAGE_SIZE))
    args = filters.args()
    if not current_scope().street:
        args.pop("community", None)  # always its own: not a filter the person chose
    return render_template(
        "console/tickets.html",
        title="诉求",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        args=args,
        errors=errors,
        communities=communities,
        options=options,
        now=moment,
        statuses=STATUS_NAMES,
        open_statuses=OPEN_STATUSES,
        any_open=OPEN,
        may_file=current_user.may(ConsoleRole.STAFF),
        channels=CHANNEL_NAMES,
        sources=SOURCE_GROUPS,
        order_mark=order_mark,
        order_number=ORDER_NUMBER,
        spot_text=spot_text,
    )


def _moves_for_me(status: str) -> set[str]:
    """What the signed-in account may offer: an account not linked to a person cannot accept
    (the system holds no tickets)."""
    moves = possible_moves(status)
    return moves - {"accept"} if current_user.person_id is None else moves


def _needs_identity(status: str) -> bool:
    """The ticket waits for 接单 (and then 办结), which this account cannot do: the page says
    why instead of just leaving the buttons out."""
    return current_user.person_id is None and "accept" in possible_moves(status)


def possible_moves(status: str) -> set[str]:
    """The moves the ticket's state allows now (the others' forms are not shown)."""
    moves = {name for name in ("accept", "resolve", "reject") if status in TRANSITIONS[name][0]}
    return moves | ({"note", "reassign"} if status in OPEN_STATUSES else set())


@bp.route("/<int:number>")
@requires(ConsoleRole.VIEWER)
def show(number: int) -> str:
    with reading() as db:
        detail = ticket_detail(db, number)
        if detail is None:
            abort(404)
        in_scope(detail.ticket.community_id)
        scope = current_scope()
        options = choices(db, scope) if current_user.may(ConsoleRole.STAFF) else None
        communities = communities_shown(db)
        return render_template(
            "console/ticket.html",
            title=f"诉求 #{number}",
            d=detail,
            t=detail.ticket,
            options=options,
            can=_moves_for_me(detail.ticket.status),
            needs_identity=_needs_identity(detail.ticket.status),
            may_link=current_user.may(ConsoleRole.ADMIN),
            now=now(),
            statuses=STATUS_NAMES,
            open_statuses=OPEN_STATUSES,
            events=event_names(detail.ticket.source),
            order_mark=order_mark,
            order_number=ORDER_NUMBER,
            spot_text=spot_text,
            spot_reason=spot_reason,
            notes=NOTE_NAMES,
            ratings=RATING_NAMES,
            attachment_names=ATTACHMENT_NAMES,
            channels=CHANNEL_NAMES,
            callback_results=CALLBACK_RESULTS,
            communities=communities,
            why=topic_story(detail.ticket, detail.timeline),
        )


@bp.route("/<int:number>/<action>", methods=["POST"])
@requires(ConsoleRole.STAFF)
def act(number: int, action: str) -> Response:
    if action not in ACTIONS:
        abort(404)
    app = ys()
    try:
        with writing() as db:
            message = perform(
                db,
                number,
                action,
                current_user.actor(db),
                request.form,
                now=now(),
                tz=app.settings.tz,
                options=app.conversation.options,
                scope=current_scope(),
            )
    except LookupError:
        abort(404)
    except Refused as why:
        problem(str(why))
    else:
        ok(message)
    return redirect(url_for(".show", number=number), code=303)
