"""Flask's cookie session, skipped for the WeChat webhook, which never uses cookies."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class ConsoleOnlySessions(SecureCookieSessionInterface):
    """Signed-cookie sessions everywhere but `/wechat` (hot, and cookie-less by nature)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path == "/wechat":
            return self.session_class()  # empty and unmodified: never saved
        return super().open_session(app, request)
