"""Property-based fuzzing of `/wechat`: whatever arrives, never a 500, never a traceback.

Requests are drawn from three families: well-formed messages with random fields (plain and
encrypted), valid messages mutated byte by byte (before or after encryption), and random
bodies, query strings, methods and headers. The app propagates exceptions, so an unhandled
one fails the test instead of hiding behind a 500.

`make test` runs YISHITING_FUZZ_EXAMPLES cases (300 by default); the `slow` marker runs
10,000 (`pytest -m slow tests/test_fuzz_webhook.py`). A short run against a real `yishiting
serve` process checks that it stays up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import AES_KEY, APP_ID, TOKEN, free_port, wait_healthy, write_config
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from processes import end

from bot import create_app
from bot.config import load_settings
from devtools.simulator import Signer, message_xml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("YISHITING_FUZZ_EXAMPLES", "300"))
LONG_RUN = 10_000
SIGNER = Signer(TOKEN, AES_KEY, APP_ID)

# Signing draws random nonces and wechatpy's encryption random padding: harmless here.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

Request = tuple[str, dict[str, str], bytes, dict[str, str]]  # method, query, body, headers

# -- strategies ----------------------------------------------------------------------------

KINDS = ["text", "event", "image", "voice", "video", "shortvideo", "location", "link", "file"]
EVENTS = ["subscribe", "unsubscribe", "SCAN", "CLICK", "VIEW", "LOCATION", "TEMPLATESENDJOBFINISH"]
FIELDS = ["Recognition", "PicUrl", "MediaId", "Location_X", "Label", "Url", "ScanCodeInfo"]
texts = st.text(max_size=300) | st.sampled_from(["帮助", "我的", "投票 1 1", "1", "", " "])
# What XML 1.0 may carry: CDATA cannot hold other control characters, WeChat never sends them.
xml_texts = texts.map(lambda s: "".join(c for c in s if c in "\t\n" or 32 <= ord(c) < 0xD800))
numbers = st.integers(min_value=0, max_value=2**70) | st.none()


@st.composite
def messages(draw: st.DrawFn) -> str:
    """A WeChat message with random contents."""
    kind = draw(st.sampled_from(KINDS) | xml_texts.filter(lambda s: s.strip() != ""))
    event = draw(st.sampled_from(EVENTS) | xml_texts) if kind == "event" else None
    fields = draw(st.dictionaries(st.sampled_from(FIELDS), xml_texts, max_size=3))
    return message_xml(
        draw(xml_texts.filter(lambda s: s.strip() != "") | st.just("o_fuzz")),
        text=draw(xml_texts | st.none()),
        event=event,
        event_key=draw(xml_texts | st.none()),
        msg_type=kind,
        fields=fields,
        msg_id=draw(numbers),
        create_time=draw(st.integers(min_value=-(2**40), max_value=2**40) | st.none()),
    )


def mutate(data: bytes, draw: st.DrawFn) -> bytes:
    """Cut, insert, repeat or flip bytes of `data`, a few times."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 40)))
        how = draw(st.sampled_from(["cut", "insert", "repeat", "flip"]))
        if how == "cut":
            data = data[:at] + data[end:]
        elif how == "insert":
            data = data[:at] + draw(st.binary(max_size=20) | st.sampled_from(MARKUP)) + data[at:]
        elif how == "repeat":
            data = data[:end] + data[at:end] + data[end:]
        elif at < len(data):
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return data


MARKUP = [b"<", b">", b"]]>", b"<![CDATA[", b"&amp;", b"<!DOCTYPE x>", b"<xml>", b"\x00"]


@st.composite
def signed_requests(draw: st.DrawFn) -> Request:
    """A message signed (maybe encrypted) as WeChat would, maybe mutated afterwards."""
    xml = draw(messages())
    encrypt = draw(st.booleans())
    mutated_xml = draw(st.booleans())
    if mutated_xml and not encrypt:
        xml = mutate(xml.encode(), draw).decode("utf-8", "replace")
    signed = SIGNER.sign(xml, encrypt=encrypt)
    body, query = signed.body, dict(signed.query)
    if encrypt and draw(st.booleans()):
        body = mutate(body, draw)  # the envelope or the ciphertext itself
    if draw(st.integers(0, 9)) == 0:  # now and then, a forged or damaged query
        key = draw(st.sampled_from(sorted(query)))
        query[key] = draw(st.text(max_size=50))
    return "POST", query, body, {"Content-Type": "text/xml"}


header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@st.composite
def random_requests(draw: st.DrawFn) -> Request:
    """Anything at all: methods, query strings, headers and bodies."""
    known = st.sampled_from(
        ["signature", "timestamp", "nonce", "echostr", "encrypt_type", "msg_signature", "openid"]
    )
    query = draw(st.dictionaries(known | st.text(max_size=10), st.text(max_size=80), max_size=6))
    if draw(st.booleans()):  # a valid signature, so the body is read
        query.update(SIGNER.sign("", encrypt=False).query)
        if draw(st.booleans()):
            query["encrypt_type"] = draw(st.sampled_from(["aes", "AES", "raw", ""]))
    headers = draw(
        st.dictionaries(
            st.sampled_from(["Content-Type", "X-Forwarded-For", "Content-Encoding", "Accept"])
            | st.from_regex(r"\AX-[A-Za-z]{1,12}\Z"),
            header_text,
            max_size=4,
        )
    )
    body = draw(st.binary(max_size=2000) | xml_texts.map(lambda s: f"<xml>{s}</xml>".encode()))
    method = draw(st.sampled_from(["POST", "GET", "PUT", "HEAD"]))
    return method, query, body, headers


requests_ = st.one_of(signed_requests(), random_requests())

# -- the app -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_app(
    tmp_path_factory: pytest.TempPathFactory, initialised_database: Path
) -> Iterator[Flask]:
    """One app (safe mode: plain and encrypted messages) on its own database, for all cases."""
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copyfile(initialised_database, folder / "test.db")
    config = fuzz_config(folder, "sqlite:///test.db")
    app = create_app(load_settings(config, environ={}))
    app.config["PROPAGATE_EXCEPTIONS"] = True  # an unhandled exception fails the case
    yield app
    app.extensions["yishiting"].db.dispose()


def fuzz_config(folder: Path, database_url: str) -> Path:
    return write_config(
        folder / "config.toml",
        app={"database_url": database_url, "secret_key": "s3cret-for-tests", "mode": "development"},
        wechat={"token": TOKEN, "app_id": APP_ID, "encoding_aes_key": AES_KEY},
        webhook={"max_body_bytes": 4096},
    )


def check(client: FlaskClient, request: Request) -> None:
    method, query, body, headers = request
    response = client.open("/wechat", method=method, query_string=query, data=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code == 200 and method == "POST":
        SIGNER.read_reply(response.get_data())  # "success" or a reply WeChat can read


def fuzz(app: Flask, examples: int) -> None:
    client = app.test_client()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests_)
    def one(request: Request) -> None:
        check(client, request)

    one()


def test_the_webhook_answers_every_odd_request_without_a_server_error(fuzz_app: Flask) -> None:
    fuzz(fuzz_app, EXAMPLES)


@pytest.mark.slow
def test_ten_thousand_odd_requests(fuzz_app: Flask, request: pytest.FixtureRequest) -> None:
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("the long fuzz run: pytest -m slow tests/test_fuzz_webhook.py")
    fuzz(fuzz_app, max(LONG_RUN, EXAMPLES))


def test_a_real_server_process_stays_up_under_fuzzed_requests(tmp_path: Path) -> None:
    config = fuzz_config(tmp_path, "sqlite:///y.db")
    run = [sys.executable, "-m", "bot.cli"]
    assert subprocess.run([*run, "init", "--config", str(config)], cwd=ROOT).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [*run, "serve", "--port", str(port), "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server)

        @settings(max_examples=150, deadline=None, database=None)
        @given(requests_)
        def over_http(request: Request) -> None:
            assert send(url, request) < 500

        over_http()
        wait_healthy(url, server, seconds=5)
        assert server.poll() is None
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=20)
        finally:
            end(server)
    assert b"Traceback" not in err, err.decode()


def send(url: str, request: Request) -> int:
    method, query, body, headers = request
    from urllib.parse import urlencode

    req = urllib.request.Request(
        f"{url}/wechat?{urlencode(query)}",
        data=body if method in ("POST", "PUT") else None,
        headers=headers,
        method=method,
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status: Any = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return int(status)
