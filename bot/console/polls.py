"""投票 at /admin/polls: list the polls, create one with every option `poll create` has, watch
the tally live, close a poll early and record the committee's decision (决议).

Everything goes through models/polls.py, as the chat and the CLI do; closing and deciding only
change the poll, and the scheduler's polls sweep (bot/schedule/polls.py) then tells the voters
the result and the decision, exactly as after `yishiting poll close|decide`.
"""

from __future__ import annotations

from typing import cast

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import ConsoleRole
from models.agenda import AgendaError, AgendaItem, agenda_by_number
from models.communities import community_names
from models.paper_ballots import paper_ballots
from models.places import Grid
from models.polls import (
    CLOSED,
    DECIDED,
    DRAFT,
    HOUSEHOLD_UNIT,
    OPEN,
    Poll,
    PollError,
    close_poll,
    create_poll,
    decide_poll,
    poll_by_number,
)
from models.publicity import POLLABLE, open_agenda_poll
from words import when

from . import polls_form as form
from . import polls_view as view
from .access import ConsoleUser, current_scope, guard, requires
from .common import now, ok, page_number, problem, reading, writing, ys
from .scope import in_scope

bp = Blueprint("console_polls", __name__, url_prefix="/admin/polls")
bp.before_request(guard)

DECISION_MAX = 2000
TEXTS = {
    "created": "已创建投票 #{number}「{title}」。",
    "created_later": "已创建投票 #{number}「{title}」，将于 {opens} 开始投票。",
    "closed": "已截止投票 #{number}。投票结果将由定时任务推送给参与投票的居民。",
    "already_closed": "投票 #{number} 已经截止，无需再次截止。",
    "decided": "已记录投票 #{number} 的决议，将推送给参与投票的居民。",
    "redecided": "已更新投票 #{number} 的决议。居民已收到之前的决议，修改后不会再次推送。",
    "no_decision": "请填写决议内容。",
    "decision_long": f"决议最多 {DECISION_MAX} 个字。",
    "not_closed": "请先截止投票，再记录决议。",
    "bad_status": "没有这种状态。",
}
AGENDA_REFUSALS = {
    "unknown": "没有找到这个议题。",
    "stage": "这个议题当前不能发起表决：需已立项、协商中或表决中。",
    "community": "投票所属的社区必须与议题一致（全街道的议题：全街道投票）。",
}


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    status = request.args.get("status") or None
    if status not in (None, *view.STATUSES):
        problem(TEXTS["bad_status"])
        status = None
    number = page_number(request.args.get("page"))
    with reading() as db:
        rows, more = view.page_of_polls(db, status, number, current_scope())
        counts = view.status_counts(db, current_scope())
    tabs = [(s, view.status_name(s), counts.get(s, 0)) for s in view.STATUSES]
    return render_template(
        "console/polls.html",
        title="投票",
        rows=rows,
        more=more,
        page=number,
        status=status,
        tabs=tabs,
        total=sum(counts.values()),
    )


def _grids() -> list[str]:
    """The grids the form offers: the account's community's, or every name in the street."""
    query = select(Grid.name).distinct().order_by(Grid.name)
    if not current_scope().street:
        query = query.where(Grid.community_id == current_scope().community_id)
    with reading() as db:
        return list(db.scalars(query))


def _communities() -> dict[int, str]:
    """The communities a street account may make a poll for (none to pick from in a
    single-community street, or for a community's account)."""
    with reading() as db:
        names = community_names(db)
    return names if current_scope().street and len(names) > 1 else {}


def _agenda_choices() -> list[tuple[int, str]]:
    """The 议题 a poll may decide: on the agenda (or voting already), the account's own."""
    query = select(AgendaItem.number, AgendaItem.title).where(AgendaItem.stage.in_(POLLABLE))
    scope = current_scope()
    if not scope.street:
        query = query.where(AgendaItem.community_id == scope.community_id)
    with reading() as db:
        rows = db.execute(query.order_by(AgendaItem.number.desc()).limit(200)).all()
    return [(number, title) for number, title in rows]


def _agenda_item(db: Session, number: int) -> AgendaItem:
    """The chosen 议题, if the account may put a vote on it; else AgendaError (the form says
    so; another community's item is "no such item", as everywhere)."""
    item = agenda_by_number(db, number)
    if item is None or not current_scope().owns(item.community_id):
        raise AgendaError("unknown", number=number)
    return item


def _me() -> str:
    return cast(ConsoleUser, current_user).display_name


def _form_page(values: dict[str, str], errors: dict[str, str], status: int) -> tuple[str, int]:
    page = render_template(
        "console/poll_new.html",
        title="新建投票",
        values=values,
        errors=errors,
        grids=_grids(),
        communities=_communities(),
        agenda=_agenda_choices(),
        zone=ys().settings.tz.key,
    )
    return page, status


@bp.route("/new", methods=["GET", "POST"])
@requires(ConsoleRole.ADMIN)
def new() -> Response | tuple[str, int]:
    tz = ys().settings.tz
    if request.method == "GET":
        return _form_page(form.defaults(now(), tz), {}, 200)
    values = form.typed(request.form)
    parsed = form.parse(request.form, tz, current_scope(), _communities())
    if parsed.spec is None:
        return _form_page(values, parsed.errors, 400)
    try:
        with writing() as db:
            if parsed.agenda is None:
                poll = create_poll(db, parsed.spec, now())
            else:
                item = _agenda_item(db, parsed.agenda)
                poll = open_agenda_poll(db, item, parsed.spec, now(), actor=_me())
            number, title, status, opens = poll.number, poll.title, poll.status, poll.opens_at
    except PollError as exc:
        field, reason = form.refusal(exc)
        return _form_page(values, {field: reason}, 400)
    except AgendaError as exc:
        return _form_page(values, {"agenda": AGENDA_REFUSALS.get(exc.reason, "")}, 400)
    if status == DRAFT:
        opens_text = when(opens, ys().settings.tz)
        ok(TEXTS["created_later"].format(number=number, title=title, opens=opens_text))
    else:
        ok(TEXTS["created"].format(number=number, title=title))
    return redirect(url_for(".show", number=number), code=303)


@bp.route("/<int:number>")
@requires(ConsoleRole.VIEWER)
def show(number: int) -> str:
    with reading() as db:
        poll = _poll(db, number)
        page = render_template(
            "console/poll.html",
            title=f"投票 #{poll.number}",
            poll=poll,
            rules=view.rules(db, poll),
            tally=view.current_tally(db, poll),
            status_name=view.status_name(poll.status),
            # A street-wide poll is the street's to close and decide.
            may_close=poll.status in (DRAFT, OPEN) and current_scope().owns(poll.community_id),
            may_decide=poll.status in (CLOSED, DECIDED) and current_scope().owns(poll.community_id),
            zone=ys().settings.tz.key,
            agenda_number=db.scalar(
                select(AgendaItem.number).where(AgendaItem.id == poll.agenda_id)
            ),
            paper=paper_ballots(db, poll),
            may_enter_paper=(
                poll.unit == HOUSEHOLD_UNIT
                and poll.status == OPEN
                and current_user.may(ConsoleRole.STAFF)
            ),
        )
    return page


@bp.route("/<int:number>/tally.json")
@requires(ConsoleRole.VIEWER)
def tally(number: int) -> Response:
    with reading() as db:
        data = view.current_tally(db, _poll(db, number))
    return jsonify(data)


@bp.route("/<int:number>/close", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def close(number: int) -> Response:
    with writing() as db:
        closed = close_poll(db, _poll(db, number, change=True), now())
    if closed:
        ok(TEXTS["closed"].format(number=number))
    else:
        problem(TEXTS["already_closed"].format(number=number))
    return redirect(url_for(".show", number=number), code=303)


@bp.route("/<int:number>/decide", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def decide(number: int) -> Response:
    decision = request.form.get("decision", "").strip()
    with reading() as db:
        _poll(db, number, change=True)  # another community's: 404 before anything is said
    if not decision or len(decision) > DECISION_MAX:
        problem(TEXTS["no_decision"] if not decision else TEXTS["decision_long"])
        return redirect(url_for(".show", number=number), code=303)
    with writing() as db:
        poll = _poll(db, number, change=True)
        told_before = poll.decision_pushed_at is not None
        try:
            decide_poll(db, poll, decision, now())
        except PollError:
            problem(TEXTS["not_closed"])
            return redirect(url_for(".show", number=number), code=303)
    ok(TEXTS["redecided" if told_before else "decided"].format(number=number))
    return redirect(url_for(".show", number=number), code=303)


def _poll(db: Session, number: int, *, change: bool = False) -> Poll:
    """The poll numbered `number` within the account's scope (scope.py): another community's
    is a 404; a street-wide one may be read by a community account, changed only by the
    street (403)."""
    poll = poll_by_number(db, number)
    if poll is None:
        abort(404)
    in_scope(poll.community_id, change=change, street_wide=True)
    return poll
