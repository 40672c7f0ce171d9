"""/metrics: off by default; when on, Prometheus' text format with the requests this process
answered, tickets by state, the outbox and push failures by WeChat error code."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from conftest import WeChat, make_app
from flask import Flask

from bot.config import Settings
from bot.db import Database
from bot.delivery import Worker
from bot.metrics import error_code
from devtools.fake_wechat import FakeWeChat
from models import Push, enqueue, touch_person

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (\S+)$')


def scrape(app: Flask) -> dict[str, float]:
    """The samples of /metrics by `name{labels}`, after checking the text format."""
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    samples: dict[str, float] = {}
    typed: set[str] = set()
    for line in response.get_data(as_text=True).splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        family = re.sub(r"_(total|bucket|sum|count)$", "", match.group(1))
        assert match.group(1) in typed or family in typed, f"no # TYPE for {line!r}"
        samples[line.rsplit(" ", 1)[0]] = float(match.group(4))
    return samples


def metrics_app(settings: Settings, **extra: Any) -> Flask:
    return make_app(settings.replace(metrics={"enabled": True}, **extra))


def test_metrics_are_off_by_default(app: Flask) -> None:
    assert app.test_client().get("/metrics").status_code == 404


def test_requests_are_counted_by_route_and_status_with_their_latency(settings: Settings) -> None:
    app = metrics_app(settings)
    wechat = WeChat(app.test_client(), settings)
    for text in ("3号楼电梯坏了，困住了两个老人", "帮助"):
        wechat.send("o_resident", text)
    client = app.test_client()
    client.get("/healthz")
    client.get("/no/such/page/123")
    client.get("/admin/tickets/5")  # one series per route, whatever the number

    samples = scrape(app)

    route = 'route="/wechat",method="POST",status="200"'
    assert samples[f"yishiting_http_requests_total{{{route}}}"] == 2
    assert samples[f"yishiting_http_request_duration_seconds_count{{{route}}}"] == 2
    assert samples[f'yishiting_http_request_duration_seconds_bucket{{{route},le="+Inf"}}'] == 2
    buckets = [
        v
        for k, v in samples.items()
        if k.startswith(f"yishiting_http_request_duration_seconds_bucket{{{route}")
    ]
    assert buckets == sorted(buckets)  # cumulative
    assert 0 < samples[f"yishiting_http_request_duration_seconds_sum{{{route}}}"] < 10
    assert samples['yishiting_http_requests_total{route="/healthz",method="GET",status="200"}'] == 1
    assert (
        samples['yishiting_http_requests_total{route="unmatched",method="GET",status="404"}'] == 1
    )
    console = [
        k
        for k in samples
        if "/admin/tickets/<" in k and k.startswith("yishiting_http_requests_total")
    ]
    assert len(console) == 1, console
    assert not any("123" in k for k in samples)


def test_tickets_and_the_outbox_are_read_from_the_database(settings: Settings) -> None:
    app = metrics_app(settings)
    wechat = WeChat(app.test_client(), settings)
    wechat.send("o_resident", "3号楼电梯坏了，困住了两个老人")
    wechat.send("o_neighbour", "小区门口的路灯坏了好几天了")

    samples = scrape(app)

    assert samples['yishiting_tickets{state="new"}'] == 2
    assert samples['yishiting_tickets{state="closed"}'] == 0
    assert samples['yishiting_outbox_rows{status="dead"}'] == 0
    assert samples["yishiting_outbox_backlog"] == 0
    assert samples["yishiting_outbox_dead"] == 0


def test_push_failures_are_counted_by_wechat_error_code(
    settings: Settings, fake: FakeWeChat
) -> None:
    live = settings.replace(
        wechat={"app_id": "wx_fake_app", "app_secret": "fake_secret", "api_base_url": fake.url},
        delivery={"timeout_seconds": 1.0, "lease_seconds": 5.0},
    )
    app = metrics_app(live)
    db = Database(live)
    now = datetime.now(UTC)
    with db.transaction() as conn:
        for n, openid in enumerate(("o_gone", "o_busy", "o_fine")):
            someone = touch_person(conn, openid, now, wrote=True)
            enqueue(conn, Push("notice", someone.id, {"text": "停水通知"}, f"t:{n}"), now)
    fake.script("custom", [40003, -1])  # a bad openid (dead), then "system busy" (retried)
    stats = Worker(live, db).run_once()
    db.dispose()
    assert (stats.dead, stats.retried, stats.sent) == (1, 1, 1)

    samples = scrape(app)

    assert samples['yishiting_push_failures{code="40003",status="dead"}'] == 1
    assert samples['yishiting_push_failures{code="-1",status="pending"}'] == 1
    assert samples["yishiting_outbox_dead"] == 1
    assert samples['yishiting_outbox_rows{status="sent"}'] == 1


def test_error_codes_are_read_from_the_outbox_reasons() -> None:
    assert error_code("errcode 45009: reach max api daily quota limit") == "45009"
    assert error_code("gave up after 10 tries: errcode -1: system error") == "-1"
    assert error_code("message/custom/send: HTTP 502") == "http_502"
    assert error_code("message/custom/send: no answer within 5 s") == "timeout"
    assert error_code("message/custom/send: ConnectionError") == "network"
    assert error_code("the person does not follow the account") == "other"
