"""The fake WeChat/WeCom API (devtools.fake_wechat), spoken to over real HTTP as the bot would."""

from __future__ import annotations

from collections.abc import Iterator
from http.client import HTTPConnection
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from bot.cli import fake as fake_cli
from devtools.fake_wechat import FakeWeChat, Received

SLOW = 0.3  # the fake's slow_seconds in these tests
CUSTOM = "cgi-bin/message/custom/send"
TEMPLATE = "cgi-bin/message/template/send"
MASS = "cgi-bin/message/mass/send"
WECOM = "cgi-bin/message/send"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat() as server:
        server.slow_seconds = SLOW
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get_token(http: requests.Session, fake: FakeWeChat) -> str:
    answer = http.get(
        fake.url + "cgi-bin/token",
        params={"grant_type": "client_credential", "appid": fake.app_id, "secret": fake.app_secret},
        timeout=5,
    ).json()
    token = answer["access_token"]
    assert isinstance(token, str)
    return token


def stable_token(http: requests.Session, fake: FakeWeChat, force: bool = False) -> dict[str, Any]:
    body = {
        "grant_type": "client_credential",
        "appid": fake.app_id,
        "secret": fake.app_secret,
        "force_refresh": force,
    }
    answer: dict[str, Any] = http.post(
        fake.url + "cgi-bin/stable_token", json=body, timeout=5
    ).json()
    return answer


def wecom_token(http: requests.Session, fake: FakeWeChat) -> str:
    answer = http.get(
        fake.url + "cgi-bin/gettoken",
        params={"corpid": fake.corp_id, "corpsecret": fake.corp_secret},
        timeout=5,
    ).json()
    assert answer["errcode"] == 0
    token = answer["access_token"]
    assert isinstance(token, str)
    return token


def text(touser: str, content: str = "你好") -> dict[str, Any]:
    return {"touser": touser, "msgtype": "text", "text": {"content": content}}


def send(
    http: requests.Session,
    fake: FakeWeChat,
    token: str,
    body: dict[str, Any],
    path: str = CUSTOM,
    timeout: float = 5,
) -> requests.Response:
    return http.post(fake.url + path, params={"access_token": token}, json=body, timeout=timeout)


def errcode(response: requests.Response) -> int:
    assert response.status_code == 200
    code = response.json()["errcode"]
    assert isinstance(code, int)
    return code


# --- tokens ------------------------------------------------------------------------------------


def test_token_is_issued_for_the_right_credentials_only(
    fake: FakeWeChat, http: requests.Session
) -> None:
    url = fake.url + "cgi-bin/token"
    good = {"grant_type": "client_credential", "appid": fake.app_id, "secret": fake.app_secret}
    answer = http.get(url, params=good, timeout=5).json()
    assert answer["expires_in"] == 7200 and len(answer["access_token"]) > 30
    assert "errcode" not in answer
    wrong_app = http.get(url, params={**good, "appid": "wx_other"}, timeout=5).json()
    assert wrong_app == {"errcode": 40013, "errmsg": "invalid appid"}
    wrong_secret = http.get(url, params={**good, "secret": "nope"}, timeout=5).json()
    assert wrong_secret["errcode"] == 40001
    assert fake.token_fetches() == 1


def test_each_token_call_rotates_and_the_old_token_keeps_a_grace(
    fake: FakeWeChat, http: requests.Session
) -> None:
    first, second = get_token(http, fake), get_token(http, fake)
    assert first != second
    assert errcode(send(http, fake, first, text("o1"))) == 0  # within WeChat's overlap
    fake.rotation_grace = 0
    get_token(http, fake)
    assert errcode(send(http, fake, second, text("o1"))) == 42001
    assert fake.token_fetches() == 3


def test_stable_token_repeats_until_force_refresh(fake: FakeWeChat, http: requests.Session) -> None:
    first = stable_token(http, fake)
    assert first["expires_in"] == 7200
    again = stable_token(http, fake)
    assert again["access_token"] == first["access_token"]
    assert 7190 <= again["expires_in"] <= 7200
    forced = stable_token(http, fake, force=True)
    assert forced["access_token"] != first["access_token"]
    assert stable_token(http, fake)["access_token"] == forced["access_token"]
    assert fake.token_fetches() == 4
    bad = {"grant_type": "client_credential", "appid": "wx_other", "secret": fake.app_secret}
    assert http.post(fake.url + "cgi-bin/stable_token", json=bad, timeout=5).json()["errcode"] == (
        40013
    )


def test_expired_tokens_answer_42001_and_a_new_one_works(
    fake: FakeWeChat, http: requests.Session
) -> None:
    token = stable_token(http, fake)["access_token"]
    fake.expire_tokens()
    assert errcode(send(http, fake, token, text("o1"))) == 42001
    fresh = stable_token(http, fake)["access_token"]  # no valid token left: a new one
    assert fresh != token
    assert errcode(send(http, fake, fresh, text("o1"))) == 0


def test_a_token_past_its_ttl_is_expired(http: requests.Session) -> None:
    with FakeWeChat(token_ttl=0) as fake:
        assert errcode(send(http, fake, get_token(http, fake), text("o1"))) == 42001


def test_wecom_token(fake: FakeWeChat, http: requests.Session) -> None:
    token = wecom_token(http, fake)
    assert wecom_token(http, fake) == token  # WeCom repeats a valid token
    url = fake.url + "cgi-bin/gettoken"
    wrong = http.get(url, params={"corpid": "x", "corpsecret": fake.corp_secret}, timeout=5)
    assert wrong.json()["errcode"] == 40013
    wrong = http.get(url, params={"corpid": fake.corp_id, "corpsecret": "x"}, timeout=5)
    assert wrong.json()["errcode"] == 40001


# --- sends -------------------------------------------------------------------------------------


def test_every_send_endpoint_is_recorded_in_order(fake: FakeWeChat, http: requests.Session) -> None:
    token, corp_token = get_token(http, fake), wecom_token(http, fake)
    custom = text("o_alice", "您的工单已受理 ✓")
    template = {"touser": "o_bob", "template_id": "T1", "data": {"first": {"value": "x"}}}
    mass = {"touser": ["o_a", "o_b"], "msgtype": "text", "text": {"content": "通知"}}
    wecom = {"touser": "zhang|li", "msgtype": "text", "agentid": 1000002, "text": {"content": "新"}}

    answer = send(http, fake, token, custom)
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.json() == {"errcode": 0, "errmsg": "ok"}
    assert isinstance(send(http, fake, token, template, TEMPLATE).json()["msgid"], int)
    assert isinstance(send(http, fake, token, mass, MASS).json()["msg_id"], int)
    assert send(http, fake, corp_token, wecom, WECOM).json() == {
        "errcode": 0,
        "errmsg": "ok",
        "invaliduser": "",
    }

    records = fake.received()
    assert [r.api for r in records] == ["custom", "template", "mass", "wecom"]
    assert [r.body for r in records] == [custom, template, mass, wecom]
    assert [r.token for r in records] == [token, token, token, corp_token]
    assert records[0].at <= records[-1].at
    assert fake.received("mass") == [records[2]]


def test_answers_are_utf8_json_without_escapes(fake: FakeWeChat, http: requests.Session) -> None:
    fake.script("custom", [-1])
    raw = send(http, fake, get_token(http, fake), text("o1")).content
    assert raw == b'{"errcode": -1, "errmsg": "system error"}'


def test_bad_tokens_are_refused(fake: FakeWeChat, http: requests.Session) -> None:
    no_token = http.post(fake.url + CUSTOM, json=text("o1"), timeout=5)
    assert no_token.json() == {"errcode": 40014, "errmsg": "invalid access_token"}
    assert errcode(send(http, fake, "made-up", text("o1"))) == 40014
    # A WeCom token is no WeChat token, and the other way round.
    assert errcode(send(http, fake, wecom_token(http, fake), text("o1"))) == 40014
    assert errcode(send(http, fake, get_token(http, fake), text("zhang"), WECOM)) == 40014
    assert fake.received() == []


def test_unfollowed_users_answer_43004_and_mass_skips_them(
    fake: FakeWeChat, http: requests.Session
) -> None:
    token = get_token(http, fake)
    fake.unfollow("o_gone")
    assert errcode(send(http, fake, token, text("o_gone"))) == 43004
    template = {"touser": "o_gone", "template_id": "T1", "data": {}}
    assert errcode(send(http, fake, token, template, TEMPLATE)) == 43004
    mass = {"touser": ["o_gone", "o_here"], "msgtype": "text", "text": {"content": "x"}}
    assert errcode(send(http, fake, token, mass, MASS)) == 0
    assert [r.api for r in fake.received()] == ["mass"]


def test_mass_needs_two_openids_and_bad_json_is_47001(
    fake: FakeWeChat, http: requests.Session
) -> None:
    token = get_token(http, fake)
    one = {"touser": ["o_a"], "msgtype": "text", "text": {"content": "x"}}
    assert errcode(send(http, fake, token, one, MASS)) == 40130
    bad = http.post(fake.url + CUSTOM, params={"access_token": token}, data=b"{not json", timeout=5)
    assert errcode(bad) == 47001
    assert fake.received() == []


def test_unknown_paths_are_404(fake: FakeWeChat, http: requests.Session) -> None:
    for answer in (
        http.get(fake.url + "cgi-bin/nothing", timeout=5),
        http.get(fake.url + CUSTOM, timeout=5),  # sends are POST only
    ):
        assert answer.status_code == 404
        assert answer.json() == {"errcode": -1, "errmsg": "unknown api"}


def test_keep_alive_serves_many_requests_on_one_connection(fake: FakeWeChat) -> None:
    token = get_token(requests.Session(), fake)
    conn = HTTPConnection("127.0.0.1", int(fake.url.rsplit(":", 1)[1].strip("/")))
    try:
        for i in range(20):
            body = f'{{"touser": "o{i}", "msgtype": "text", "text": {{"content": "{i}"}}}}'
            conn.request("POST", f"/{CUSTOM}?access_token={token}", body=body.encode())
            answer = conn.getresponse()
            assert answer.status == 200
            assert answer.getheader("Connection") is None  # not closing
            assert answer.read() == b'{"errcode": 0, "errmsg": "ok"}'
    finally:
        conn.close()
    assert len(fake.received("custom")) == 20


# --- injected faults ---------------------------------------------------------------------------


def test_scripted_outcomes_come_in_order_then_normal(
    fake: FakeWeChat, http: requests.Session
) -> None:
    token = get_token(http, fake)
    fake.script("custom", [45009, "500", "drop", "lost", "slow", "ok"])

    assert errcode(send(http, fake, token, text("o1", "45009"))) == 45009
    error = send(http, fake, token, text("o1", "500"))
    assert error.status_code == 500
    with pytest.raises(requests.ConnectionError):
        send(http, fake, token, text("o1", "drop"))
    with pytest.raises(requests.ConnectionError):
        send(http, fake, token, text("o1", "lost"))
    with pytest.raises(requests.ReadTimeout):
        send(http, fake, token, text("o1", "slow"), timeout=SLOW / 3)
    assert errcode(send(http, fake, token, text("o1", "ok"))) == 0
    assert errcode(send(http, fake, token, text("o1", "normal"))) == 0

    contents = [r.body["text"]["content"] for r in fake.received()]
    assert contents == ["lost", "slow", "ok", "normal"]
    assert fake.faults() == {"45009": 1, "500": 1, "drop": 1, "lost": 1, "slow": 1}


def test_a_slow_answer_does_arrive_for_a_patient_client(
    fake: FakeWeChat, http: requests.Session
) -> None:
    token = get_token(http, fake)
    fake.slow_seconds = 0.05
    fake.script("template", ["slow"])
    body = {"touser": "o1", "template_id": "T", "data": {}}
    assert errcode(send(http, fake, token, body, TEMPLATE)) == 0
    assert len(fake.received("template")) == 1


def test_token_endpoints_can_be_scripted(fake: FakeWeChat, http: requests.Session) -> None:
    fake.script("token", [-1])
    url = fake.url + "cgi-bin/token"
    params = {"grant_type": "client_credential", "appid": fake.app_id, "secret": fake.app_secret}
    assert http.get(url, params=params, timeout=5).json()["errcode"] == -1
    assert "access_token" in http.get(url, params=params, timeout=5).json()


def test_script_refuses_what_it_does_not_know(fake: FakeWeChat) -> None:
    with pytest.raises(ValueError):
        fake.script("nope", [1])
    with pytest.raises(ValueError):
        fake.script("custom", ["explode"])
    with pytest.raises(ValueError):
        fake.chaos(1.5)


def test_chaos_fails_about_rate_of_sends_and_is_repeatable(http: requests.Session) -> None:
    def run(seed: int) -> list[int]:
        with FakeWeChat() as fake:
            token = get_token(http, fake)
            fake.chaos(0.3, seed=seed, outcomes=[45009, -1])
            codes = [errcode(send(http, fake, token, text(f"o{i}"))) for i in range(300)]
            faults = fake.faults()
            assert sum(faults.values()) == sum(1 for c in codes if c != 0)
            assert set(faults) <= {"45009", "-1"}
            assert len(fake.received()) == codes.count(0)
            return codes

    codes = run(7)
    assert 60 <= sum(1 for c in codes if c != 0) <= 120
    assert run(7) == codes


def test_chaos_default_mix(fake: FakeWeChat, http: requests.Session) -> None:
    fake.slow_seconds = 0.0
    token = get_token(http, fake)
    fake.chaos(1.0, seed=3)
    for i in range(40):
        try:
            send(http, fake, token, text(f"o{i}"))
        except requests.ConnectionError:
            pass
    faults = fake.faults()
    assert sum(faults.values()) == 40
    assert set(faults) <= {"-1", "45009", "40001", "500", "slow", "drop", "lost"}
    assert len(faults) >= 5
    accepted = faults.get("slow", 0) + faults.get("lost", 0)
    assert len(fake.received()) == accepted
    fake.chaos(0)
    assert errcode(send(http, fake, token, text("o_calm"))) == 0


def test_reset_forgets_records_faults_scripts_and_unfollowers(
    fake: FakeWeChat, http: requests.Session
) -> None:
    token = get_token(http, fake)
    send(http, fake, token, text("o1"))
    fake.unfollow("o_gone")
    fake.script("custom", [45009, 45009])
    fake.chaos(1.0, outcomes=[-1])
    send(http, fake, token, text("o1"))
    fake.reset()
    assert fake.received() == [] and fake.faults() == {} and fake.token_fetches() == 0
    assert errcode(send(http, fake, token, text("o_gone"))) == 0  # the token survives reset
    assert len(fake.received()) == 1


# --- control endpoints -------------------------------------------------------------------------


def test_control_endpoints(fake: FakeWeChat, http: requests.Session) -> None:
    token = get_token(http, fake)
    base = fake.url + "_fake/"
    ok = {"errcode": 0, "errmsg": "ok"}

    script = {"api": "custom", "outcomes": [40001, "lost"]}
    assert http.post(base + "script", json=script, timeout=5).json() == ok
    assert errcode(send(http, fake, token, text("o1", "a"))) == 40001
    with pytest.raises(requests.ConnectionError):
        send(http, fake, token, text("o1", "b"))
    send(http, fake, wecom_token(http, fake), text("zhang", "c"), WECOM)

    listed = http.get(base + "received", timeout=5).json()
    assert [(r["api"], r["body"]["text"]["content"]) for r in listed] == [
        ("custom", "b"),
        ("wecom", "c"),
    ]
    assert listed[0]["token"] == token and isinstance(listed[0]["at"], float)
    only = http.get(base + "received", params={"api": "wecom"}, timeout=5).json()
    assert [r["api"] for r in only] == ["wecom"]
    assert http.get(base + "faults", timeout=5).json() == {"40001": 1, "lost": 1}
    assert http.get(base + "token_fetches", timeout=5).json() == {"token_fetches": 2}

    chaos = {"rate": 1.0, "seed": 1, "outcomes": [45009]}
    assert http.post(base + "chaos", json=chaos, timeout=5).json() == ok
    assert errcode(send(http, fake, token, text("o1"))) == 45009

    assert http.post(base + "unfollow", json={"openid": "o_gone"}, timeout=5).json() == ok
    assert http.post(base + "reset", timeout=5).json() == ok
    assert http.get(base + "received", timeout=5).json() == []
    assert http.get(base + "faults", timeout=5).json() == {}
    assert errcode(send(http, fake, token, text("o_gone"))) == 0

    assert http.post(base + "expire_tokens", timeout=5).json() == ok
    assert errcode(send(http, fake, token, text("o1"))) == 42001

    refused = http.post(base + "script", json={"api": "nope", "outcomes": []}, timeout=5)
    assert refused.status_code == 400
    assert http.post(base + "chaos", data=b"{", timeout=5).status_code == 400


def test_stop_closes_kept_alive_connections(http: requests.Session) -> None:
    fake = FakeWeChat().start()
    token = get_token(http, fake)
    assert errcode(send(http, fake, token, text("o1"))) == 0
    fake.stop()
    with pytest.raises(requests.ConnectionError):
        send(http, fake, token, text("o1"))
    fake.stop()  # twice is fine


# --- the command -------------------------------------------------------------------------------


def test_fake_wechat_command_prints_what_it_receives(monkeypatch: pytest.MonkeyPatch) -> None:
    def wait(fake: FakeWeChat) -> None:
        with requests.Session() as http:
            token = get_token(http, fake)
            send(http, fake, token, text("o_alice", "第一行\n" + "长" * 100))
            mass = {"touser": ["a", "b", "c", "d"], "msgtype": "text", "text": {"content": "m"}}
            send(http, fake, token, mass, MASS)
        raise KeyboardInterrupt

    monkeypatch.setattr(fake_cli, "_wait_forever", wait)
    result = CliRunner().invoke(fake_cli.fake_wechat, ["--port", "0"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("fake WeChat API on http://127.0.0.1:")
    assert lines[0].endswith("/ (app_id wx_fake_app, app_secret fake_secret)")
    custom = next(line for line in lines if " custom " in line)
    assert custom.endswith("o_alice 第一行\\n" + "长" * 55)
    assert any(line.endswith(" mass     a,b,c,(+1) m") for line in lines)


def test_describe_a_template() -> None:
    received = Received(
        "template",
        {
            "touser": "o1",
            "template_id": "T9",
            "data": {"k1": {"value": "您好"}, "k2": {"value": 2}},
        },
        "tok",
        0.0,
    )
    assert fake_cli.describe(received).endswith("template o1 T9 / 您好 / 2")


# --- typed templates and subscription notices -------------------------------------------------

SUBSCRIBE = "cgi-bin/message/subscribe/bizsend"
DONE = (
    "编号{{character_string1.DATA}}\n结果{{thing2.DATA}}\n时间{{time3.DATA}}\n状态{{phrase4.DATA}}"
)


def typed(template_id: str, **values: str) -> dict[str, Any]:
    data = {name: {"value": value} for name, value in values.items()}
    return {"touser": "o_bob", "template_id": template_id, "data": data}


@pytest.mark.parametrize("path", [TEMPLATE, SUBSCRIBE])
def test_a_registered_template_takes_only_values_its_field_types_allow(
    fake: FakeWeChat, http: requests.Session, path: str
) -> None:
    fake.add_template("T_DONE", "诉求办结通知", DONE)
    token = get_token(http, fake)
    good = {
        "character_string1": "#12",
        "thing2": "已更换电梯控制板",
        "time3": "2026年12月6日 14:30",
    }
    assert errcode(send(http, fake, token, typed("T_DONE", **good, phrase4="已办结"), path)) == 0
    for bad in (
        {"thing2": "已更换电梯门机控制板并对全部楼层的按钮进行检修"},  # 21 characters
        {"character_string1": "编号12"},  # Chinese
        {"time3": "下午两点"},
        {"phrase4": "done"},
        {"thing9": "没有这个字段"},
        {"thing2": "第一行\n第二行"},
    ):
        answer = send(http, fake, token, typed("T_DONE", **bad), path).json()
        [name] = bad
        assert answer == {
            "errcode": 47003,
            "errmsg": f"argument invalid! data.{name}.value invalid",
        }
    # A template nobody registered is not checked (the legacy first/keyword/remark sends).
    assert errcode(send(http, fake, token, typed("T_OLD", first="任何内容\n都行"), path)) == 0
    assert len(fake.received()) == 2


def test_subscription_notices_are_sends_that_can_be_scripted(
    fake: FakeWeChat, http: requests.Session
) -> None:
    token = get_token(http, fake)
    fake.script("subscribe", [43101])
    answer = send(http, fake, token, typed("S1", thing1="停水通知"), SUBSCRIBE).json()
    assert answer == {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
    assert isinstance(send(http, fake, token, typed("S1"), SUBSCRIBE).json()["msgid"], int)
    [record] = fake.received("subscribe")
    assert record.body["template_id"] == "S1"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_template_list_shows_each_template_content(
    fake: FakeWeChat, http: requests.Session, method: str
) -> None:
    fake.add_template("T_DONE", "诉求办结通知", DONE)
    fake.private_templates["T_OLD"] = "旧模板"
    token = get_token(http, fake)
    answer = http.request(
        method,
        fake.url + "cgi-bin/template/get_all_private_template",
        params={"access_token": token},
        timeout=5,
    ).json()
    assert answer["template_list"] == [
        {"template_id": "T_DONE", "title": "诉求办结通知", "content": DONE},
        {"template_id": "T_OLD", "title": "旧模板", "content": ""},
    ]
