"""The console (管理后台) at /admin and, in development, the simulator at /simulator.

`init_console(app)` wires Flask-Login, Flask-WTF's CSRF protection (every POST but WeChat's
webhook) and one blueprint per page; every view declares its least role (access.py).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

from . import (
    agenda,
    agenda_carrying,
    agenda_export,
    api_keys,
    auth,
    dashboard,
    inbound,
    media,
    meeting_reps,
    meetings,
    outbox,
    people,
    polls,
    publicity,
    rules,
    street,
    tickets,
)
from .access import init_access
from .common import ID_MAX, register_filters

CONSOLE_BLUEPRINTS = (
    auth.bp,
    dashboard.bp,
    street.bp,
    tickets.bp,
    media.bp,
    rules.bp,
    agenda.bp,
    agenda_carrying.bp,  # 落实 · 评议 on the 议题's page
    agenda_export.bp,
    meetings.bp,
    meeting_reps.bp,
    polls.bp,
    publicity.bp,
    people.bp,
    outbox.bp,
    inbound.bp,
    api_keys.bp,
)

csrf = CSRFProtect()


# A rules file or a form may be larger than a WeChat message ([webhook] max_body_bytes, the
# app-wide cap that keeps the webhook cheap); the console gets its own.
CONSOLE_MAX_BYTES = 4 * 1024 * 1024


class IdConverter(IntegerConverter):
    """`<int:…>` in console routes: at most 2**31 - 1, the largest id a database integer holds;
    a longer number is a 404 (no such record), not an overflow in the database."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def init_console(app: Flask, *, development: bool = False) -> None:
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session is
    app.url_map.converters["int"] = IdConverter
    app.before_request(_console_input)
    csrf.init_app(app)
    init_access(app)
    register_filters(app)
    for blueprint in CONSOLE_BLUEPRINTS:
        app.register_blueprint(blueprint)
    if development:
        # The simulator exists only in development: in production /simulator is a 404.
        from . import simulator

        app.register_blueprint(simulator.bp)


def exempt_from_csrf(blueprint: object) -> None:
    """WeChat's webhook is authenticated by its signature, not by a form token."""
    csrf.exempt(blueprint)


def _console_input() -> None:
    """Console and simulator requests: their own size cap, and no NUL characters anywhere
    (PostgreSQL refuses them in text; no person types one)."""
    if not is_console_request():
        return
    request.max_content_length = CONSOLE_MAX_BYTES
    values: list[Any] = [*request.args.values(), *request.form.values()]
    if request.is_json:
        values.append(request.get_json(silent=True))
    if any(_has_nul(value) for value in values):
        raise BadRequest("请求里有无法处理的控制字符（NUL），请删去后重试。")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def is_console_request() -> bool:
    return request.path == "/admin" or request.path.startswith(("/admin/", "/simulator"))


def console_error(exc: HTTPException) -> Response:
    """An error page in Chinese for people at the console (WeChat gets plain text)."""
    if isinstance(exc, CSRFError):
        message = "页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试。"
    elif exc.code == 400 and exc.description and not exc.description.isascii():
        message = exc.description  # our own reason, already in Chinese
    else:
        message = MESSAGES.get(exc.code or 500, MESSAGES[500])
    if _wants_json():
        body = json.dumps({"error": message}, ensure_ascii=False)
        return Response(body, status=exc.code or 500, mimetype="application/json")
    body = render_template("console/error.html", code=exc.code, message=message)
    return Response(body, status=exc.code or 500, mimetype="text/html")


def _wants_json() -> bool:
    """Scripts (fetch) read errors as JSON: the simulator's calls and the console's .json/try
    endpoints, or any request that sent JSON."""
    path = request.path
    return (
        request.is_json
        or path.startswith("/simulator/")
        or path.endswith((".json", "/try", "/backtest"))
    )


MESSAGES = {
    400: "请求有误，请检查后重试。",
    403: "您的账号没有权限访问这个页面。",
    404: "没有找到这个页面或记录。",
    405: "不支持这种请求方式。",
    413: "提交的内容太大。",
    429: "操作太频繁，请稍后再试。",
    500: "服务器出错了，操作没有完成。请稍后重试；如果一再出现，请联系系统管理员。",
}
