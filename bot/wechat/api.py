"""Calls to WeChat's and WeCom's HTTP APIs, with our own token store and retry policy.

wechatpy's client keeps the token per process and retries a 40001 without limit (WECHAT.md,
pitfalls 2-4), so delivery talks to the four endpoints it needs itself, over one pooled
`requests` session per worker, and classifies every answer for the worker:

- `TokenRejected` (40001, 42001, 40014): refresh the shared token once and retry at once;
- `WindowClosed` (45015, 45047): the customer-service window is shut, try the next channel;
- `ChannelRefused` (47003 a value its template field does not take, 43101 the person refuses
  the subscription notice): this channel cannot carry this push, try the next one;
- `Permanent` (43004 not following, and any code waiting cannot fix): the row goes dead;
- `Transient` (network errors, timeouts, 5xx, -1): retry later with backoff; 45009 (the
  daily quota) waits the longest backoff at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

TOKEN_ERRORS = frozenset({40001, 42001, 40014})
WINDOW_ERRORS = frozenset({45015, 45047})
NOT_FOLLOWING = 43004
QUOTA = 45009
RETRY_ERRORS = frozenset({-1, 45011})
REFUSED_ERRORS = frozenset({47003, 43101})
USER_REFUSES = 43101


class ApiFailure(Exception):
    """A call that did not succeed; `reason` is what the outbox row's last_error shows."""

    def __init__(self, reason: str, errcode: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errcode = errcode


class Transient(ApiFailure):
    """Worth retrying later."""


class QuotaReached(Transient):
    """45009, the daily API quota: retry, but only after the longest backoff."""


class Permanent(ApiFailure):
    """Retrying will not help."""


class TokenRejected(ApiFailure):
    """The access token is invalid or expired."""


class WindowClosed(ApiFailure):
    """WeChat's customer-service window is closed or its budget used."""


class ChannelRefused(ApiFailure):
    """This channel cannot carry this push (a template value it refuses, a subscription the
    person refused): the next channel may."""


def classify_errcode(errcode: int, errmsg: str) -> ApiFailure:
    reason = f"errcode {errcode}: {errmsg}"[:300]
    if errcode in TOKEN_ERRORS:
        return TokenRejected(reason, errcode)
    if errcode in WINDOW_ERRORS:
        return WindowClosed(reason, errcode)
    if errcode in REFUSED_ERRORS:
        return ChannelRefused(reason, errcode)
    if errcode == QUOTA:
        return QuotaReached(reason, errcode)
    if errcode in RETRY_ERRORS:
        return Transient(reason, errcode)
    return Permanent(reason, errcode)


class HttpJson:
    """JSON over one pooled HTTP session; every failure becomes an `ApiFailure`."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self.session = requests.Session()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data = None
        headers = {}
        if body is not None:
            import json

            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                data=data,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.Timeout:
            raise Transient(f"{path}: no answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise Transient(f"{path}: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise Transient(f"{path}: HTTP {response.status_code}")
        if response.status_code != 200:
            raise Permanent(f"{path}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise Transient(f"{path}: the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise Transient(f"{path}: the answer is not a JSON object")
        errcode = answer.get("errcode", 0)
        if errcode not in (0, None):
            if not isinstance(errcode, int):
                raise Transient(f"{path}: odd errcode {errcode!r}")
            raise classify_errcode(errcode, str(answer.get("errmsg", "")))
        return answer

    def close(self) -> None:
        self.session.close()


class Api:
    """An API app (the Official Account, or the WeCom app) with a shared access token."""

    def __init__(self, http: HttpJson, token: Callable[[str | None], str]) -> None:
        self.http = http
        # token(None) -> the current token; token(stale) -> a token other than `stale`.
        self.token = token

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the access token; a rejected token is refreshed once and retried once."""
        return self.call("POST", path, body)

    def get(self, path: str) -> dict[str, Any]:
        """GET with the access token (the account's read APIs), with the same token policy."""
        return self.call("GET", path, None)

    def call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        token = self.token(None)
        try:
            return self.http.request(method, path, params={"access_token": token}, body=body)
        except TokenRejected:
            fresh = self.token(token)
            try:
                return self.http.request(method, path, params={"access_token": fresh}, body=body)
            except TokenRejected as again:
                raise Transient(f"token rejected after a refresh ({again.reason})") from None


def fetch_wechat_token(http: HttpJson, app_id: str, secret: str, force: bool) -> tuple[str, int]:
    """`stable_token`: does not rotate the token on every call, kind to several processes."""
    answer = http.request(
        "POST",
        "cgi-bin/stable_token",
        body={
            "grant_type": "client_credential",
            "appid": app_id,
            "secret": secret,
            "force_refresh": force,
        },
    )
    return _token_from(answer)


def fetch_wecom_token(http: HttpJson, corp_id: str, secret: str) -> tuple[str, int]:
    answer = http.request(
        "GET", "cgi-bin/gettoken", params={"corpid": corp_id, "corpsecret": secret}
    )
    return _token_from(answer)


def _token_from(answer: dict[str, Any]) -> tuple[str, int]:
    token = answer.get("access_token")
    expires_in = answer.get("expires_in", 7200)
    if not isinstance(token, str) or not token or not isinstance(expires_in, int):
        raise Transient("the token answer has no access_token")
    return token, expires_in
