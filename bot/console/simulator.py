"""/simulator: try the bot in a browser, as any person, without WeChat (development only).

Registered only when `[app] mode = "development"` (in production /simulator is a 404), and
open without a login. Messages are built by devtools.simulator, a development double, loaded
when one is sent. A message typed here is built as WeChat's XML and goes through the same
path as the webhook's: parse, then the conversation; the reply comes back as JSON. The pushes
panel reads the outbox (the console channel), rendered as each recipient reads them.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_wtf.csrf import CSRFError
from sqlalchemy import or_, select

from models import Binding, Household, OutboxMessage, Person, Role
from models.places import APPROVED
from words import when
from words.menu import MENU

from ..config import Account
from ..conversation import Busy
from ..delivery import UnknownKind, render
from ..wechat.inbound import BadMessage, on_account, parse_xml_message
from .common import reading, small_int, ys

bp = Blueprint("simulator", __name__, url_prefix="/simulator")

OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TEXT = 600  # WeChat refuses a text message longer than about 2,000 bytes
MAX_KEY = 128  # an EventKey's limit on WeChat
EVENTS = ("subscribe", "unsubscribe", "click")
PUSHES_PER_CALL = 100
PEOPLE_LISTED = 50
# Control characters have no place in XML 1.0 (a real WeChat client cannot send them).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

TEXTS = {
    "not_json": "请求内容应为 JSON 对象。",
    "openid": "openid 只能由字母、数字、下划线和短横线组成，长度 1 到 64 个字符。",
    "what": "请发送文字（text）或事件（event），二者选一。",
    "empty": "消息不能为空。",
    "long": f"消息太长了，最多 {MAX_TEXT} 个字。",
    "control": "消息里有无法发送的控制字符。",
    "event": "不支持的事件，只能是：关注（subscribe）、取消关注（unsubscribe）、"
    "菜单点击（click）。",
    "key": f"菜单点击需要菜单键（key），1 到 {MAX_KEY} 个字符。",
    "bad_message": "消息无法解析：{reason}",
    "busy": "数据库正忙，请稍后重试。",
    "after": "after 应为非负整数。",
    "csrf": "页面已过期（CSRF 校验失败），请刷新页面后重试。",
    "staff": "{name}（工作人员）",
    "admin": "{name}（管理员）",
    "resident": "居民 {openid}",
    "home": " · {home}",
    "broadcast": "（群发）",
    "account": "没有名为 {name} 的公众号（可选：{names}）。",
}
STATUS_LABELS = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "held": "待对方回复时附带",
    "dead": "发送失败",
    "cancelled": "已取消",
}


@dataclass
class _EventTimes:
    """WeChat tells events apart by sender, CreateTime (seconds) and event name; two taps in
    one second would look like one delivered twice. Each event here gets a later second."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    last: dict[str, int] = field(default_factory=dict)

    def next(self, openid: str) -> int:
        with self.lock:
            if len(self.last) > 10_000:
                self.last.clear()
            moment = max(int(time.time()), self.last.get(openid, 0) + 1)
            self.last[openid] = moment
            return moment


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    state.app.extensions["simulator"] = _EventTimes()


def _event_times(app: Flask) -> _EventTimes:
    times: _EventTimes = app.extensions["simulator"]
    return times


class Refused(Exception):
    """Bad input: a 400 with the reason in Chinese."""


@bp.errorhandler(Refused)
def _refused(exc: Refused) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 400


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError) -> tuple[Response, int]:
    return jsonify(error=TEXTS["csrf"]), 400


@bp.route("", strict_slashes=False)
def index() -> str:
    # Times in the chat are shown in the community's zone, as the pushes' times are.
    zone = ys().settings.app.timezone
    return render_template("console/simulator.html", menu=MENU, zone=zone)


@bp.route("/send", methods=["POST"])
def send() -> Response | tuple[Response, int]:
    """{openid, text} or {openid, event, key} → {reply}: the bot's passive reply (or null).
    An optional "account" names the [[accounts]] entry it is sent to (default: the first)."""
    from devtools.simulator import message_xml  # a development double: loaded only here

    body = request.get_json(silent=True)
    openid, text, event, key = _read_send(body)
    account = _account(body)
    if text is not None:
        xml = message_xml(openid, text=text)
    else:
        create_time = _event_times(current_app).next(openid)
        xml = message_xml(openid, event=event, event_key=key, create_time=create_time)
    try:
        message = on_account(parse_xml_message(xml.encode("utf-8")), account)
    except BadMessage as exc:
        raise Refused(TEXTS["bad_message"].format(reason=exc)) from None
    try:
        outcome = ys().conversation.handle(message)
    except Busy:
        return jsonify(error=TEXTS["busy"]), 503
    return jsonify(reply=outcome.reply)


def _account(body: Any) -> Account:
    """The account named in the body (read after `_read_send` checked it is an object)."""
    settings = ys().settings
    name = body.get("account")
    if name is None:
        return settings.accounts[0]
    account = settings.account(name) if isinstance(name, str) else None
    if account is None:
        names = "、".join(a.name for a in settings.accounts)
        raise Refused(TEXTS["account"].format(name=name, names=names))
    return account


def _read_send(body: Any) -> tuple[str, str | None, str | None, str | None]:
    if not isinstance(body, dict):
        raise Refused(TEXTS["not_json"])
    openid = body.get("openid")
    if not isinstance(openid, str) or not OPENID.fullmatch(openid):
        raise Refused(TEXTS["openid"])
    text, event, key = body.get("text"), body.get("event"), body.get("key")
    if (text is None) == (event is None):
        raise Refused(TEXTS["what"])
    if text is not None:
        if not isinstance(text, str) or not text.strip():
            raise Refused(TEXTS["empty"])
        if len(text) > MAX_TEXT:
            raise Refused(TEXTS["long"])
        if _CONTROL.search(text):
            raise Refused(TEXTS["control"])
        return openid, text, None, None
    if event not in EVENTS:
        raise Refused(TEXTS["event"])
    if event == "click":
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY or _CONTROL.search(key):
            raise Refused(TEXTS["key"])
        return openid, None, event, key
    return openid, None, str(event), None


@bp.route("/people")
def people() -> Response:
    """The people to act as: staff (by name) and residents with an approved binding."""
    with reading() as db:
        bound = select(Binding.person_id).where(Binding.status == APPROVED)
        rows = db.execute(
            select(Person.openid, Person.name, Person.role, Household)
            .outerjoin(Binding, (Binding.person_id == Person.id) & (Binding.status == APPROVED))
            .outerjoin(Household, Household.id == Binding.household_id)
            .where(
                or_(
                    Person.role.in_((Role.STAFF, Role.ADMIN)),
                    Person.name.is_not(None),
                    Person.id.in_(bound),
                )
            )
            .order_by(Person.id)
            .limit(PEOPLE_LISTED)
        ).all()
        listed = [_person_entry(openid, name, role, home) for openid, name, role, home in rows]
    # Staff first (the order people look for), then residents, each as they joined.
    listed.sort(key=lambda entry: entry["kind"] == "resident")
    return jsonify(people=listed)


def _person_entry(
    openid: str, name: str | None, role: Role, home: Household | None
) -> dict[str, str | None]:
    kind = {Role.ADMIN: "admin", Role.STAFF: "staff"}.get(role, "resident")
    if kind == "resident":
        label = TEXTS["resident"].format(openid=openid)
    else:
        label = TEXTS[kind].format(name=name or openid)
    if home is not None:
        label += TEXTS["home"].format(home=home.label)
    return {"openid": openid, "name": name, "kind": kind, "label": label}


@bp.route("/pushes")
def pushes() -> Response:
    """Pushes queued after `after` (an outbox id), oldest first; without it, the latest ones."""
    raw = request.args.get("after", "")
    if raw and small_int(raw) is None:
        raise Refused(TEXTS["after"])
    query = select(OutboxMessage, Person.openid, Person.name).outerjoin(
        Person, Person.id == OutboxMessage.person_id
    )
    with reading() as db:
        if raw:
            query = query.where(OutboxMessage.id > int(raw)).order_by(OutboxMessage.id)
            rows = db.execute(query.limit(PUSHES_PER_CALL)).all()
        else:
            query = query.order_by(OutboxMessage.id.desc()).limit(30)
            rows = list(reversed(db.execute(query).all()))
        shown = [_push_entry(row, openid, name) for row, openid, name in rows]
    last = shown[-1]["id"] if shown else int(raw or 0)
    return jsonify(pushes=shown, last=last)


def _push_entry(row: OutboxMessage, openid: str | None, name: str | None) -> dict[str, Any]:
    try:
        rendered = render(row.kind, row.payload)
        title, text = rendered.title, rendered.text
    except UnknownKind as exc:
        title, text = row.kind, str(exc)
    to: list[str] = [openid] if openid else list(row.payload.get("openids", []))[:500]
    return {
        "id": row.id,
        "kind": row.kind,
        "title": title,
        "text": text,
        "openid": openid,
        "to": to,
        "recipient": (f"{name} {openid}" if name else openid) if openid else TEXTS["broadcast"],
        "at": row.created_at.isoformat(),
        "when": when(row.created_at, ys().settings.tz),
        "status": row.status,
        "status_label": STATUS_LABELS.get(row.status, row.status),
    }
