"""表决 · 公示 · 异议 in the console: the 公示 part of an item's page (publish, objections,
confirm or withdraw) and the paper-ballot form of a poll's page.

Every change goes through models/publicity.py and models/paper_ballots.py, as the chat and
the CLI do; what people wrote (the decision, a reason, an objection) is kept as written.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from handlers.people import parse_address
from models import ConsoleRole
from models.agenda import PUBLICISED, AgendaError, AgendaItem, public_url
from models.paper_ballots import enter_paper_ballot, find_household
from models.places import Binding, Household
from models.polls import PollError, poll_by_number
from models.publicity import (
    PERIOD_MAX_DAYS,
    PUBLISHABLE,
    REASON_MAX,
    confirm,
    decision_for,
    in_period,
    objections,
    publish,
    withdraw,
)
from words import when

from .access import ConsoleUser, current_scope, guard, requires
from .agenda import detail_part, item_in_scope
from .common import now, ok, problem, reading, writing, ys
from .scope import in_scope

bp = Blueprint("console_publicity", __name__)
bp.before_request(guard)

DECISION_MAX = 2000
TEXTS = {
    "published": "已公示议题 #{number}，公示期至 {until}，已推送给范围内的 {told} 位居民。",
    "withdrawn": "已撤回议题 #{number}，已告知 {told} 位居民。",
    "confirmed": "已确认议题 #{number} 的决定。",
    "days": "公示天数应是大于 0 的数。",
    "decision_long": f"决定最多 {DECISION_MAX} 个字。",
    "reason": "请填写撤回的原因。",
    "reason_long": f"原因最多 {REASON_MAX} 个字。",
    "ballot": "已为 {household} 录入纸质选票：{choices}（录入人：{by}）。",
    "ballot_replaced": (
        "已为 {household} 录入纸质选票：{choices}（录入人：{by}），替换了该户之前的投票。"
    ),
    "address": "请按“楼号-单元-房号”填写户，如 16-2-501。",
}
REFUSALS = {
    "stage": "议题当前阶段不能这样操作。",
    "no_decision": "还没有可公示的决定：请填写决定，或先记录投票的决议或议事会纪要的结论。",
    "days": TEXTS["days"],
    "no_reason": TEXTS["reason"],
    "confirmed": "这项决定已经确认过了。",
    "not_publicised": "议题不在公示阶段。",
    "period_running": "公示期还没有结束，期满后才能确认（居民在公示期内可以提出异议）。",
}
BALLOT_REFUSALS = {
    "household": "没有找到 {address} 这一户（楼栋或住户未登记）。",
    "ambiguous": "几个社区都有这个楼号，请在本社区的账号下录入。",
    "person_poll": "这个投票按人计票，没有“户”可以录入纸质选票；纸质选票只用于按户投票（户决制）。",
    "closed": "投票已经截止，不能再录入选票。",
    "not_open": "投票还没有开始，不能录入选票。",
    "out_of_scope": "这一户不在本次投票的范围内。",
    "entered_by": "无法确定录入人。",
    "no_choice": "请填写选项字母，如 A。",
    "invalid_option": "没有这个选项，请填写 {labels} 中的字母。",
    "repeated_option": "同一个选项只能选一次。",
    "too_many": "最多可选 {max} 项。",
}


def _me() -> str:
    return cast(ConsoleUser, current_user).display_name


def _back(number: int) -> Response:
    return redirect(url_for("console_agenda.show", number=number), code=303)


@detail_part("publicity")
def publicity_part(db: Session, item: AgendaItem) -> dict[str, Any]:
    """What the 公示 part shows: the decision and period, the objections, and the forms."""
    rows = []
    for objection in objections(db, item.id):
        home = db.scalar(
            select(Household)
            .join(Binding, Binding.household_id == Household.id)
            .where(Binding.person_id == objection.person_id)
        )
        rows.append((objection.created_at, home.label if home else "", objection.text))
    owns = current_scope().owns(item.community_id)
    settings = ys().settings
    return {
        "item": item,
        "objections": rows,
        "url": public_url(item, settings.app.public_url or request.host_url),
        "running": in_period(item, now()),
        "may_publish": owns and item.stage in PUBLISHABLE,
        "suggested": decision_for(db, item) or "",
        "days": settings.deliberation.publicity_days,
        "may_answer": owns and item.stage == PUBLICISED and item.confirmed_at is None,
    }


@bp.route("/admin/agenda/<int:number>/publish", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def publish_item(number: int) -> Response:
    decision = request.form.get("decision", "").strip()
    days_text = request.form.get("days", "").strip()
    try:
        days = float(days_text) if days_text else ys().settings.deliberation.publicity_days
    except ValueError:
        days = 0
    with reading() as db:
        item_in_scope(db, number, change=True)
    if not 0 < days <= PERIOD_MAX_DAYS:
        problem(TEXTS["days"])
        return _back(number)
    if len(decision) > DECISION_MAX:
        problem(TEXTS["decision_long"])
        return _back(number)
    settings = ys().settings
    with writing() as db:
        item = item_in_scope(db, number, change=True)
        try:
            done = publish(
                db,
                item,
                now(),
                days,
                settings.app.public_url,
                decision or None,
                actor=_me(),
                tz=settings.tz,
            )
        except AgendaError as exc:
            problem(REFUSALS.get(exc.reason, REFUSALS["stage"]))
            return _back(number)
        assert item.objections_until is not None
        until = item.objections_until
    ok(TEXTS["published"].format(number=number, until=_when(until), told=done.told))
    return _back(number)


@bp.route("/admin/agenda/<int:number>/withdraw", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def withdraw_item(number: int) -> Response:
    reason = request.form.get("reason", "").strip()
    with reading() as db:
        item_in_scope(db, number, change=True)
    if not reason or len(reason) > REASON_MAX:
        problem(TEXTS["reason"] if not reason else TEXTS["reason_long"])
        return _back(number)
    with writing() as db:
        item = item_in_scope(db, number, change=True)
        try:
            told = withdraw(db, item, reason, now(), actor=_me())
        except AgendaError as exc:
            problem(REFUSALS.get(exc.reason, REFUSALS["stage"]))
            return _back(number)
    ok(TEXTS["withdrawn"].format(number=number, told=told))
    return _back(number)


@bp.route("/admin/agenda/<int:number>/confirm", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def confirm_item(number: int) -> Response:
    with writing() as db:
        item = item_in_scope(db, number, change=True)
        try:
            confirm(db, item, now(), actor=_me())
        except AgendaError as exc:
            problem(REFUSALS.get(exc.reason, REFUSALS["stage"]))
            return _back(number)
    ok(TEXTS["confirmed"].format(number=number))
    return _back(number)


@bp.route("/admin/polls/<int:number>/ballot", methods=["POST"])
@requires(ConsoleRole.STAFF)
def paper_ballot(number: int) -> Response:
    """A household's paper ballot; a community account may enter its own households' ballots
    in a street-wide poll (a ballot is a vote, not a change to the poll)."""
    back = redirect(url_for("console_polls.show", number=number, _anchor="paper"), code=303)
    address = parse_address(request.form.get("household", ""))
    choice = request.form.get("choice", "")
    with writing() as db:
        poll = poll_by_number(db, number)
        if poll is None:
            abort(404)
        in_scope(poll.community_id, street_wide=True)
        if isinstance(address, str):
            problem(TEXTS["address"])
            return back
        try:
            home = find_household(
                db, poll, address.building, address.unit, address.room, current_scope().community_id
            )
            entered = enter_paper_ballot(db, poll, home, choice, _me(), now())
        except PollError as exc:
            reason = "ambiguous" if exc.details.get("ambiguous") else exc.reason
            template = BALLOT_REFUSALS.get(reason, BALLOT_REFUSALS["household"])
            values = {"address": "", "labels": "", "max": "", **exc.details}
            problem(template.format(**values))
            return back
        words = {"household": home.label, "choices": entered.choices, "by": _me()}
    ok(TEXTS["ballot_replaced" if entered.replaced else "ballot"].format(**words))
    return back


def _when(moment: Any) -> str:
    return when(moment, ys().settings.tz)
