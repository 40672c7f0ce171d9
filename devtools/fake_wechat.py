"""A fake WeChat / WeCom HTTP API on a local port, for tests, benchmarks and the demo.

Why a real HTTP server rather than mocking the HTTP client: the code under test reaches WeChat
through real clients (connection pools, keep-alive, timeouts, retries), and the failures that
matter only happen on a real socket — an HTTP 500, a connection closed without an answer, an
answer slower than the client's timeout, a send that WeChat accepted although its answer was
lost. Being a real server also lets another process (the benchmark's workers, the demo) point
its config at `FakeWeChat.url` and steer the fake through the `_fake/...` control endpoints.

It implements just enough of the real APIs to be honest about what clients must handle:

* several Official Accounts (`add_app`): each AppID has its own secret, tokens and menu, and
  every accepted call is recorded with the AppID its token was issued to;
* access tokens (`cgi-bin/token`, `cgi-bin/stable_token`, WeCom's `cgi-bin/gettoken`) that can
  be rotated, expired (42001) or be unknown (40014);
* the send endpoints (`custom`, `template`, `mass`, `wecom`, `subscribe`), which record what
  they accepted and refuse followers who left (43004); a template or subscription notice
  registered with `add_template` has its typed fields checked as WeChat does (47003);
* injected faults, either scripted (`script`) or at random (`chaos`): an errcode, "500",
  "slow", "drop" (no answer, not accepted) and "lost" (accepted, but no answer).

Speed matters (a benchmark pushes more than 1,000 requests/s through it): every answer is one
buffered write on a TCP_NODELAY keep-alive connection, and the one lock guards only the shared
records for a few dictionary operations.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import secrets
import socket
import socketserver
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from bot.wechat.fields import accepts, placeholders

from .fake_errors import error
from .fake_media import Answer as MediaAnswer
from .fake_media import FakeMedia

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
# An injected outcome: an errcode, or one of OUTCOME_WORDS.
Outcome = int | str

SEND_APIS = ("custom", "template", "mass", "wecom", "subscribe")
# Token endpoints can be scripted too (not chaos'd): "token" is cgi-bin/token and
# cgi-bin/stable_token, "gettoken" is WeCom's.
TOKEN_APIS = ("token", "gettoken")
# The account's own APIs (`menu push`, `menu show`, `check-config --online`): the menu, the
# template list and two read-only probes of the customer-service and mass-send permissions.
ACCOUNT_APIS: tuple[str, ...] = ("menu_create", "menu_info", "templates", "kf_list", "mass_speed")
# The subscription notice templates (wxaapi/newtmpl/gettemplate, `check-config --online`).
ACCOUNT_APIS += ("notice_templates",)
OUTCOME_WORDS = ("ok", "500", "slow", "drop", "lost")
DEFAULT_CHAOS_OUTCOMES: tuple[Outcome, ...] = (-1, 45009, 40001, "500", "slow", "drop", "lost")

JSON_TYPE = "application/json; charset=utf-8"
WECHAT, WECOM = "wechat", "wecom"


def _ok(**extra: Any) -> JsonDict:
    return {"errcode": 0, "errmsg": "ok", **extra}


def _check_outcome(outcome: object) -> Outcome:
    if isinstance(outcome, bool) or not isinstance(outcome, int | str):
        raise ValueError(f"bad outcome {outcome!r}: an errcode or one of {OUTCOME_WORDS}")
    if isinstance(outcome, str) and outcome not in OUTCOME_WORDS:
        raise ValueError(f"bad outcome {outcome!r}: an errcode or one of {OUTCOME_WORDS}")
    return outcome


@dataclass(frozen=True)
class Received:
    """One API call the fake accepted."""

    api: str  # "custom", "template", "mass" or "wecom"
    body: dict[str, Any]  # the JSON body as sent
    token: str  # the access_token query parameter
    at: float  # time.time() when it was accepted
    app_id: str = ""  # the account (AppID) the token belongs to; "" for WeCom

    def to_json(self) -> JsonDict:
        return {
            "api": self.api,
            "body": self.body,
            "token": self.token,
            "at": self.at,
            "app_id": self.app_id,
        }


@dataclass
class _Token:
    kind: str  # WECHAT or WECOM
    expires_at: float  # time.monotonic()
    revoked: bool = False  # by expire_tokens()
    app_id: str = ""  # WECHAT: the account it was issued to


class FakeWeChat:
    """The fake API. `with FakeWeChat() as fake: ... fake.url ...`, or start()/stop()."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        app_id: str = "wx_fake_app",
        app_secret: str = "fake_secret",
        corp_id: str = "ww_fake_corp",
        corp_secret: str = "fake_corp_secret",
        token_ttl: int = 7200,
    ) -> None:
        self.host = host
        self.port = port
        self.app_id = app_id
        self.app_secret = app_secret
        self.corp_id = corp_id
        self.corp_secret = corp_secret
        self.token_ttl = token_ttl
        # How long a "slow" answer sleeps before answering.
        self.slow_seconds: float = 6.0
        # After a rotation (a new cgi-bin/token, or stable_token with force_refresh) the
        # previous WeChat token stays valid this long, as WeChat's five-minute overlap.
        self.rotation_grace: float = 300.0
        # Called (in the server's thread, outside the lock) with every accepted send.
        self.on_receive: Callable[[Received], None] | None = None

        self._lock = threading.Lock()
        self._records: list[Received] = []
        self._tokens: dict[str, _Token] = {}
        self._current: dict[str, str] = {}  # kind (wechat:APPID, wecom) -> the newest token
        self._token_fetches = 0
        self._fetches_by_app: Counter[str] = Counter()
        # The Official Accounts it serves: AppID -> AppSecret (add_app adds more).
        self.apps: dict[str, str] = {app_id: app_secret}
        self._unfollowed: set[str] = set()
        self._scripted: dict[str, deque[Outcome]] = {}
        self._chaos_rate = 0.0
        self._chaos_outcomes: tuple[Outcome, ...] = DEFAULT_CHAOS_OUTCOMES
        self._rng = random.Random()
        self._faults: Counter[str] = Counter()
        self._msgids = itertools.count(1_000_000_001)
        self._menus: dict[str, JsonDict] = {}  # AppID -> the last menu/create body accepted
        # The account's templates (get_all_private_template): template id -> title.
        self.private_templates: dict[str, str] = {}
        # Temporary media (cgi-bin/media/get): fake_media.py.
        self.media = FakeMedia(self)
        # Typed templates and notices (add_template): template id -> content, whose
        # {{thing1.DATA}} placeholders name the fields a send may fill.
        self._template_contents: dict[str, str] = {}
        # Subscription notice templates (wxaapi/newtmpl/gettemplate): id -> (title, type),
        # type 2 one-time, 3 long-term.
        self._notice_templates: dict[str, tuple[str, int]] = {}

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._connections: set[socket.socket] = set()

    # --- life cycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """`http://HOST:PORT/`, valid after start()."""
        if self._url is None:
            raise RuntimeError("FakeWeChat.url: call start() first")
        return self._url

    def start(self) -> FakeWeChat:
        """Serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), self)
        port = server.server_address[1]
        self._url = f"http://{self.host}:{port}/"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-wechat-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the open keep-alive connections."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- what the tests look at and steer ---------------------------------------------------

    def received(self, api: str | None = None) -> list[Received]:
        """The accepted sends (all, or of one api), in arrival order."""
        with self._lock:
            if api is None:
                return list(self._records)
            return [r for r in self._records if r.api == api]

    def add_app(self, app_id: str, app_secret: str) -> None:
        """Serve another Official Account: its tokens, sends and menu are its own."""
        with self._lock:
            self.apps[app_id] = app_secret

    def token_fetches(self, app_id: str | None = None) -> int:
        """How many tokens were handed out (WeChat + WeCom), counting every successful token
        answer — including a stable_token or gettoken answer that repeated a valid token.
        With `app_id`: only that account's WeChat tokens."""
        with self._lock:
            return self._token_fetches if app_id is None else self._fetches_by_app[app_id]

    def faults(self) -> dict[str, int]:
        """How many of each outcome were injected, e.g. {"500": 3, "lost": 2, "45009": 1}."""
        with self._lock:
            return dict(self._faults)

    def reset(self) -> None:
        """Forget records, token fetch count, faults, scripted outcomes, chaos and unfollowers.
        Tokens already issued stay as they are, so clients keep their cached ones."""
        with self._lock:
            self._records.clear()
            self._token_fetches = 0
            self._fetches_by_app.clear()
            self._faults.clear()
            self._scripted.clear()
            self._chaos_rate = 0.0
            self._chaos_outcomes = DEFAULT_CHAOS_OUTCOMES
            self._unfollowed.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far becomes invalid (errcode 42001)."""
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True
            self._current.clear()

    def unfollow(self, openid: str) -> None:
        """Sends to this openid answer errcode 43004 (mass sends skip it)."""
        with self._lock:
            self._unfollowed.add(openid)

    def script(self, api: str, outcomes: list[Outcome]) -> None:
        """The next len(outcomes) calls to `api` get these outcomes in order, then normal again.
        `api` is a send api or "token" (cgi-bin/token, stable_token) or "gettoken" (WeCom)."""
        if api not in SEND_APIS + TOKEN_APIS + ACCOUNT_APIS:
            known = SEND_APIS + TOKEN_APIS + ACCOUNT_APIS
            raise ValueError(f"unknown api {api!r}: one of {known}")
        checked = [_check_outcome(o) for o in outcomes]
        with self._lock:
            self._scripted[api] = deque(checked)

    def chaos(
        self, rate: float, seed: int | None = None, outcomes: list[Outcome] | None = None
    ) -> None:
        """Each send call fails with probability `rate`, its outcome drawn at random from
        `outcomes` (default: -1, 45009, 40001, "500", "slow", "drop", "lost"). rate 0 stops."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"chaos rate {rate!r} is not within [0, 1]")
        chosen = tuple(_check_outcome(o) for o in outcomes) if outcomes else DEFAULT_CHAOS_OUTCOMES
        with self._lock:
            self._chaos_rate = float(rate)
            self._chaos_outcomes = chosen
            self._rng = random.Random(seed)

    # --- the server's side (called from the handler threads) --------------------------------

    def _track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _next_outcome(self, api: str) -> Outcome:
        with self._lock:
            queue = self._scripted.get(api)
            if queue:
                outcome = queue.popleft()
            elif (
                self._chaos_rate > 0.0
                and api in SEND_APIS
                and self._rng.random() < self._chaos_rate
            ):
                outcome = self._rng.choice(self._chaos_outcomes)
            else:
                return "ok"
            if outcome != "ok":
                self._faults[str(outcome)] += 1
            return outcome

    def _issue(self, kind: str, now: float, app_id: str) -> str:
        """A new token of `kind` (for `app_id`); the previous one keeps a grace period.
        Holds the lock."""
        slot = f"{kind}:{app_id}" if app_id else kind
        previous = self._tokens.get(self._current.get(slot, ""))
        if previous is not None:
            previous.expires_at = min(previous.expires_at, now + self.rotation_grace)
        token = secrets.token_urlsafe(96)
        self._tokens[token] = _Token(kind, now + self.token_ttl, app_id=app_id)
        self._current[slot] = token
        return token

    def _reuse(self, kind: str, now: float, app_id: str) -> tuple[str, int] | None:
        """The newest token of `kind` (for `app_id`) and its remaining seconds, if still
        valid. Holds the lock."""
        token = self._current.get(f"{kind}:{app_id}" if app_id else kind)
        record = self._tokens.get(token or "")
        if token is None or record is None or record.revoked or now >= record.expires_at:
            return None
        return token, max(1, round(record.expires_at - now))

    def _token_answer(self, kind: str, *, rotate: bool, app_id: str = "") -> JsonDict:
        now = time.monotonic()
        with self._lock:
            reused = None if rotate else self._reuse(kind, now, app_id)
            if reused is None:
                token, expires_in = self._issue(kind, now, app_id), self.token_ttl
            else:
                token, expires_in = reused
            self._token_fetches += 1
            if app_id:
                self._fetches_by_app[app_id] += 1
        answer: JsonDict = {"access_token": token, "expires_in": expires_in}
        return _ok(**answer) if kind == WECOM else answer

    def _wechat_credentials(self, appid: object, secret: object) -> JsonDict | None:
        if not isinstance(appid, str) or appid not in self.apps:
            return error(40013)
        if secret != self.apps[appid]:
            return error(40001)
        return None

    def _get_token(self, query: dict[str, str], raw: bytes) -> JsonDict:
        if query.get("grant_type") != "client_credential":
            return error(40002)
        appid = query.get("appid", "")
        refused = self._wechat_credentials(appid, query.get("secret"))
        return refused or self._token_answer(WECHAT, rotate=True, app_id=appid)

    def _stable_token(self, query: dict[str, str], raw: bytes) -> JsonDict:
        body = _json_object(raw)
        if body is None:
            return error(47001)
        if body.get("grant_type") != "client_credential":
            return error(40002)
        appid = body.get("appid")
        refused = self._wechat_credentials(appid, body.get("secret"))
        rotate = body.get("force_refresh") is True
        return refused or self._token_answer(WECHAT, rotate=rotate, app_id=str(appid))

    def _wecom_token(self, query: dict[str, str], raw: bytes) -> JsonDict:
        if query.get("corpid") != self.corp_id:
            return error(40013)
        if query.get("corpsecret") != self.corp_secret:
            return error(40001)
        return self._token_answer(WECOM, rotate=False)

    def _send(self, api: str, query: dict[str, str], raw: bytes) -> JsonDict:
        """Validate a send as WeChat would; record it if accepted."""
        token = query.get("access_token", "")
        body = _json_object(raw)
        kind = WECOM if api == "wecom" else WECHAT
        now = time.monotonic()
        extra: JsonDict = {}
        with self._lock:
            record = self._tokens.get(token)
            if record is None or record.kind != kind:
                return error(40014)
            if record.revoked or now >= record.expires_at:
                return error(42001)
            if body is None:
                return error(47001)
            touser = body.get("touser")
            if api == "mass":
                if not isinstance(touser, list) or len(touser) < 2:
                    return error(40130)
                extra["msg_id"] = next(self._msgids)
            elif api == "wecom":
                users = touser.split("|") if isinstance(touser, str) else []
                extra["invaliduser"] = "|".join(u for u in users if u in self._unfollowed)
            else:
                if not isinstance(touser, str) or not touser:
                    return error(40003)
                if touser in self._unfollowed:
                    return error(43004)
                refusal = self._typed_refusal(body) if api in ("template", "subscribe") else None
                if refusal is not None:
                    return refusal
                if api in ("template", "subscribe"):
                    extra["msgid"] = next(self._msgids)
            received = Received(api, body, token, time.time(), record.app_id)
            self._records.append(received)
        hook = self.on_receive
        if hook is not None:
            try:
                hook(received)
            except Exception:
                log.exception("FakeWeChat.on_receive failed")
        return _ok(**extra)

    def add_template(
        self, template_id: str, title: str, content: str, *, notice: int | None = None
    ) -> None:
        """Register a typed template with its content, e.g. "编号{{character_string1.DATA}}
        \n结果{{thing2.DATA}}": it is listed by get_all_private_template (with `notice` = 2
        one-time or 3 long-term: a subscription notice template, listed by
        wxaapi/newtmpl/gettemplate), and sends to it are checked field by field (47003)."""
        with self._lock:
            if notice is None:
                self.private_templates[template_id] = title
            else:
                self._notice_templates[template_id] = (title, notice)
            self._template_contents[template_id] = content

    def _typed_refusal(self, body: JsonDict) -> JsonDict | None:
        """47003 naming the first field a registered template lacks or whose value its type
        does not take; None when the send is fine or the template is not registered."""
        content = self._template_contents.get(str(body.get("template_id")))
        data = body.get("data")
        if content is None:
            return None
        if not isinstance(data, dict):
            return error(47001)
        known = set(placeholders(content))
        for name, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            if name not in known or not isinstance(value, str) or not accepts(name, value):
                return {"errcode": 47003, "errmsg": f"argument invalid! data.{name}.value invalid"}
        return None

    def _template_list(self, api: str) -> JsonDict:
        """get_all_private_template's or wxaapi/newtmpl/gettemplate's answer. Holds the lock."""
        contents = self._template_contents
        if api == "templates":
            listed = self.private_templates.items()
            return {
                "template_list": [
                    {"template_id": t, "title": n, "content": contents.get(t, "")}
                    for t, n in listed
                ]
            }
        notices = self._notice_templates.items()
        data = [
            {"priTmplId": t, "title": n, "content": contents.get(t, ""), "type": k}
            for t, (n, k) in notices
        ]
        return _ok(data=data)

    def menu(self, app_id: str | None = None) -> JsonDict | None:
        """The menu last published with menu/create (its body) to `app_id` (default: the
        first account), or None."""
        with self._lock:
            return self._menus.get(app_id or self.app_id)

    def _account(self, api: str, query: dict[str, str], raw: bytes) -> JsonDict:
        """The account's APIs (ACCOUNT_APIS); a published menu is recorded as a send is."""
        token = query.get("access_token", "")
        now = time.monotonic()
        with self._lock:
            record = self._tokens.get(token)
            if record is None or record.kind != WECHAT:
                return error(40014)
            if record.revoked or now >= record.expires_at:
                return error(42001)
            if api == "menu_create":
                body = _json_object(raw)
                if body is None or not isinstance(body.get("button"), list):
                    return error(47001)
                self._menus[record.app_id] = body
                self._records.append(Received(api, body, token, time.time(), record.app_id))
                return _ok()
            if api == "menu_info":
                return _selfmenu_info(self._menus.get(record.app_id))
            if api in ("templates", "notice_templates"):
                return self._template_list(api)
        if api == "kf_list":
            return {"kf_list": []}
        return {"speed": 3, "realspeed": 15}  # mass_speed

    # --- control endpoints, for another process ---------------------------------------------

    def _control(self, name: str, query: dict[str, str], body: JsonDict) -> Any:
        if name == "received":
            return [r.to_json() for r in self.received(query.get("api"))]
        if name == "faults":
            return self.faults()
        if name == "token_fetches":
            return {"token_fetches": self.token_fetches(query.get("app_id"))}
        if name == "reset":
            self.reset()
        elif name == "expire_tokens":
            self.expire_tokens()
        elif name == "add_app":
            self.add_app(str(body["app_id"]), str(body["app_secret"]))
        elif name == "unfollow":
            self.unfollow(str(body["openid"]))
        elif name == "chaos":
            self.chaos(float(body.get("rate", 0.0)), body.get("seed"), body.get("outcomes"))
        elif name == "script":
            self.script(str(body["api"]), list(body.get("outcomes") or []))
        return _ok()


def _selfmenu_info(menu: JsonDict | None) -> JsonDict:
    """get_current_selfmenu_info's shape: sub-buttons wrapped in {"list": [...]}."""
    if menu is None:
        return {"is_menu_open": 0, "selfmenu_info": {"button": []}}
    buttons = []
    for button in menu.get("button") or []:
        if isinstance(button, dict) and "sub_button" in button:
            button = {**button, "sub_button": {"list": button["sub_button"]}}
        buttons.append(button)
    return {"is_menu_open": 1, "selfmenu_info": {"button": buttons}}


def _json_object(raw: bytes) -> JsonDict | None:
    try:
        value = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError
        return None
    return value if isinstance(value, dict) else None


# (method, path) -> what answers it: a send or token api name, or a control endpoint.
_APIS: dict[tuple[str, str], str] = {
    ("GET", "cgi-bin/token"): "token",
    ("POST", "cgi-bin/stable_token"): "token",
    ("GET", "cgi-bin/gettoken"): "gettoken",
    ("POST", "cgi-bin/message/custom/send"): "custom",
    ("POST", "cgi-bin/message/template/send"): "template",
    ("POST", "cgi-bin/message/mass/send"): "mass",
    ("POST", "cgi-bin/message/subscribe/bizsend"): "subscribe",
    ("POST", "cgi-bin/message/send"): "wecom",
    ("POST", "cgi-bin/menu/create"): "menu_create",
    ("GET", "cgi-bin/get_current_selfmenu_info"): "menu_info",
    ("GET", "cgi-bin/template/get_all_private_template"): "templates",
    ("POST", "cgi-bin/template/get_all_private_template"): "templates",
    ("GET", "wxaapi/newtmpl/gettemplate"): "notice_templates",
    ("GET", "cgi-bin/customservice/getkflist"): "kf_list",
    ("POST", "cgi-bin/message/mass/speed/get"): "mass_speed",
}
_CONTROLS: dict[tuple[str, str], str] = {
    ("GET", "_fake/received"): "received",
    ("GET", "_fake/faults"): "faults",
    ("GET", "_fake/token_fetches"): "token_fetches",
    ("POST", "_fake/reset"): "reset",
    ("POST", "_fake/expire_tokens"): "expire_tokens",
    ("POST", "_fake/add_app"): "add_app",
    ("POST", "_fake/unfollow"): "unfollow",
    ("POST", "_fake/chaos"): "chaos",
    ("POST", "_fake/script"): "script",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], fake: FakeWeChat) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look up the host's FQDN: a DNS query we do not need.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up (after a timeout, or at stop()) is routine here; stay quiet.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeWeChat/1.0"
    disable_nagle_algorithm = True
    wbufsize = -1  # buffered: an answer's headers and body leave in one write

    @property
    def fake(self) -> FakeWeChat:
        return cast(_Server, self.server).fake

    def setup(self) -> None:
        super().setup()
        self.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.fake._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: no line per request

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        raw = self._read_body()
        path, _, query_string = self.path.partition("?")
        if "://" in path:  # an absolute-form request target
            path = urlsplit(self.path).path
        key = (method, path.lstrip("/"))
        query = {k: v[0] for k, v in parse_qs(query_string).items()} if query_string else {}
        if self.fake.media.serves(*key):
            self._media(self.fake.media.answer(*key, query, raw))
            return
        api = _APIS.get(key)
        if api is not None:
            self._api(api, query, raw)
            return
        control = _CONTROLS.get(key)
        if control is None:
            self._answer(404, {"errcode": -1, "errmsg": "unknown api"})
            return
        body = _json_object(raw) if raw.strip() else {}
        if body is None:
            self._answer(400, error(47001))
            return
        try:
            self._answer(200, self.fake._control(control, query, body))
        except (KeyError, TypeError, ValueError) as exc:
            self._answer(400, {"errcode": -1, "errmsg": f"bad {control} request: {exc!r}"})

    def _media(self, answer: MediaAnswer) -> None:
        if answer is None:
            self.close_connection = True  # "drop": no answer
        else:
            self._answer(*answer)

    def _api(self, api: str, query: dict[str, str], raw: bytes) -> None:
        fake = self.fake
        outcome = fake._next_outcome(api)
        if isinstance(outcome, int):
            self._answer(200, error(outcome))
        elif outcome == "500":
            self._answer(500, b"500 Internal Server Error", "text/plain; charset=utf-8")
        elif outcome == "drop":
            self.close_connection = True  # not accepted, no answer
        elif outcome == "lost":
            self._perform(api, query, raw)  # accepted...
            self.close_connection = True  # ...but the answer never arrives
        elif outcome == "slow":
            answer = self._perform(api, query, raw)  # accepted now, answered late
            time.sleep(fake.slow_seconds)
            self._answer(200, answer)
        else:
            self._answer(200, self._perform(api, query, raw))

    def _perform(self, api: str, query: dict[str, str], raw: bytes) -> JsonDict:
        fake = self.fake
        if api == "token":
            if self.command == "GET":
                return fake._get_token(query, raw)
            return fake._stable_token(query, raw)
        if api == "gettoken":
            return fake._wecom_token(query, raw)
        if api in ACCOUNT_APIS:
            return fake._account(api, query, raw)
        return fake._send(api, query, raw)

    def handle_expect_100(self) -> bool:
        # The "100 Continue" must leave now, not wait in the write buffer for the answer.
        proceed = super().handle_expect_100()
        self.wfile.flush()
        return proceed

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunks()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunks(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline(65537).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537).strip():  # trailers, up to the blank line
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(65537)  # the CRLF after each chunk

    def _answer(self, status: int, payload: Any, content_type: str = JSON_TYPE) -> None:
        if isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
