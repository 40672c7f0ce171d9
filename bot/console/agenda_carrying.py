"""落实 and 评议 on a 议题's page: who carries it out and by when, its progress and result,
the ratings with their 满意率 and the 回头看's answers; and the admin's forms to assign an
owner (again: change them), record progress and complete it — the same operations the chat
and the CLI use (models/carrying.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import ConsoleRole, Person
from models.agenda import (
    CARRYING_OUT,
    PROGRESS,
    PUBLICISED,
    AgendaError,
    AgendaItem,
    rating_counts,
    satisfaction,
    timeline,
)
from models.agenda_ratings import review_counts, review_notes
from models.carrying import (
    PARTY_MAX,
    TEXT_MAX,
    assign,
    complete,
    parse_due,
    publicity_unsettled,
    report_progress,
    staff_names,
)

from .access import current_scope, guard, requires
from .agenda import STAGE_NAMES, detail_part, item_in_scope
from .common import now, ok, problem, writing, ys

bp = Blueprint("console_carrying", __name__, url_prefix="/admin/agenda")
bp.before_request(guard)

TEXTS = {
    "stage": "议题 #{number} 现在是「{stage_name}」，不能{what}。",
    "publicity_open": "议题 #{number} 仍在公示期内，公示期满后才能明确落实责任。",
    "objections": "议题 #{number} 公示期间收到异议，请先确认决定，再明确落实责任。",
    "owner_missing": "请填写负责人。",
    "owner_unknown": "没有找到名为「{name}」的工作人员（本社区或街道）。",
    "owner_ambiguous": "有 {count} 位工作人员都叫「{name}」，请先在人员管理中区分姓名。",
    "party_long": "实施单位名称最多 {limit} 字。",
    "due_past": "期限已过，请选择今后的日期。",
    "bad_due": "请填写落实期限（日期）。",
    "text_missing": "请填写内容。",
    "text_long": "内容最多 {limit} 字。",
    "assigned": "议题 #{number} 已明确落实责任：{who}，期限 {due}。已通知负责人。",
    "reassigned": "议题 #{number} 已调整落实责任：{who}，期限 {due}。已通知负责人。",
    "progress": "已记录议题 #{number} 的落实进展，并告知 {count} 位居民。",
    "completed": "议题 #{number} 已落实完成，已请 {count} 位居民评议。",
}
WHAT = {"assign": "明确落实责任", "progress": "记录进展", "complete": "标记完成"}
RATING_NAMES = (("1", "满意"), ("2", "基本满意"), ("3", "不满意"))


@detail_part("carrying")
def carrying_part(db: Session, item: AgendaItem) -> dict[str, Any]:
    """What the 落实 · 评议 part of the item's page shows."""
    owner = db.get(Person, item.owner_id) if item.owner_id is not None else None
    ratings = rating_counts(db, item.id)
    moment = now()
    return {
        "owner": owner.name if owner is not None else None,
        "party": item.owner_party,
        "due_at": item.due_at,
        "overdue": item.stage == CARRYING_OUT and item.due_at is not None and item.due_at <= moment,
        "progress": [e for e in timeline(db, item.id) if e.kind == PROGRESS],
        "result": item.result,
        "done_at": item.done_at,
        "ratings": [(name, ratings[key]) for key, name in RATING_NAMES],
        "rated": sum(ratings.values()),
        "satisfaction": satisfaction(ratings),
        "review": review_counts(db, item.id),
        "review_notes": review_notes(db, item.id),
        "review_due_at": item.review_due_at,
        "review_asked_at": item.review_asked_at,
        "may_assign": item.stage in (PUBLICISED, CARRYING_OUT),
        "unsettled": (publicity_unsettled(db, item, moment) if item.stage == PUBLICISED else None),
        "may_carry": item.stage == CARRYING_OUT,
        "may_change": current_scope().owns(item.community_id),
        "staff_names": staff_names(db, item),
        "party_max": PARTY_MAX,
        "text_max": TEXT_MAX,
    }


def _refused(error: AgendaError, item: AgendaItem, act: str) -> None:
    details = {"number": item.number, **error.details}
    details["stage_name"] = STAGE_NAMES.get(item.stage, item.stage)
    problem(TEXTS.get(error.reason, error.reason).format(what=WHAT[act], **details))


def _back(number: int) -> Response:
    return redirect(url_for("console_agenda.show", number=number), code=303)


def _actor() -> tuple[str, int | None]:
    return str(current_user.display_name), current_user.person_id


@bp.route("/<int:number>/assign", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def assign_owner(number: int) -> Response:
    form = request.form
    owner, answerable = form.get("owner", ""), form.get("answerable", "").strip() or None
    due_at = parse_due(form.get("due", ""), ys().settings.tz)
    actor, person_id = _actor()
    with writing() as db:
        item = item_in_scope(db, number, change=True)
        if due_at is None:
            problem(TEXTS["bad_due"])
            return _back(number)
        try:
            done = assign(
                db, item, now(), owner=owner, due_at=due_at, answerable=answerable,
                tz=ys().settings.tz, actor=actor, person_id=person_id,
            )  # fmt: skip
        except AgendaError as error:
            _refused(error, item, "assign")
            return _back(number)
    who = f"{done.party}（{done.staff_name}负责）" if done.party else done.staff_name
    due = due_at.astimezone(ys().settings.tz).strftime("%Y-%m-%d %H:%M")
    ok(
        TEXTS["reassigned" if done.reassigned else "assigned"].format(
            number=number, who=who, due=due
        )
    )
    return _back(number)


@bp.route("/<int:number>/progress", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def progress(number: int) -> Response:
    actor, person_id = _actor()
    with writing() as db:
        item = item_in_scope(db, number, change=True)
        try:
            told = report_progress(
                db, item, request.form.get("text", ""), now(), actor=actor, person_id=person_id
            )
        except AgendaError as error:
            _refused(error, item, "progress")
            return _back(number)
    ok(TEXTS["progress"].format(number=number, count=told))
    return _back(number)


@bp.route("/<int:number>/complete", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def finish(number: int) -> Response:
    actor, person_id = _actor()
    days = ys().settings.deliberation.review_days
    with writing() as db:
        item = item_in_scope(db, number, change=True)
        try:
            asked = complete(
                db, item, request.form.get("result", ""), now(), review_days=days,
                actor=actor, person_id=person_id,
            )  # fmt: skip
        except AgendaError as error:
            _refused(error, item, "complete")
            return _back(number)
    ok(TEXTS["completed"].format(number=number, count=asked))
    return _back(number)
