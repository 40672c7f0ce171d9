"""The fake WeChat API's error answers: WeChat's own errmsg for each errcode the fake gives."""

from __future__ import annotations

from typing import Any

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40130: "invalid openid list size, at least two openid",
    42001: "access_token expired",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit",
    40125: "invalid appsecret",
    40164: "invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist",
    46003: "menu no exist",
    48001: "api unauthorized",
    47001: "data format error",
    43101: "user refuse to accept the msg",
}


def error(errcode: int) -> dict[str, Any]:
    """WeChat's error answer for `errcode` (HTTP 200, as WeChat does)."""
    return {"errcode": errcode, "errmsg": ERRMSG.get(errcode, "fake error")}
