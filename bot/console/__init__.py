"""The console (管理后台) at /admin and, in development, the simulator at /simulator.

`init_console(app)` wires Flask-Login, Flask-WTF's CSRF protection (every POST but WeChat's
webhook) and one blueprint per page; every view declares its least role (access.py).
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from . import auth, dashboard, outbox, people, polls, rules, tickets
from .access import init_access
from .common import register_filters

CONSOLE_BLUEPRINTS = (
    auth.bp,
    dashboard.bp,
    tickets.bp,
    rules.bp,
    polls.bp,
    people.bp,
    outbox.bp,
)

csrf = CSRFProtect()


def init_console(app: Flask, *, development: bool = False) -> None:
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session is
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


def is_console_request() -> bool:
    return request.path == "/admin" or request.path.startswith(("/admin/", "/simulator"))


def console_error(exc: HTTPException) -> Response:
    """An error page in Chinese for people at the console (WeChat gets plain text)."""
    if isinstance(exc, CSRFError):
        message = "页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试。"
    else:
        message = MESSAGES.get(exc.code or 500, exc.description or "")
    body = render_template("console/error.html", code=exc.code, message=message)
    return Response(body, status=exc.code or 500, mimetype="text/html")


MESSAGES = {
    400: "请求有误，请检查后重试。",
    403: "您的账号没有权限访问这个页面。",
    404: "没有找到这个页面或记录。",
    405: "不支持这种请求方式。",
    413: "提交的内容太大。",
    429: "操作太频繁，请稍后再试。",
}
