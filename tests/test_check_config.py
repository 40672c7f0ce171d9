"""`check-config`: every local problem with its fix in one run; `--online` against the fake
WeChat API (token, IP whitelist 40164, permissions 48001, templates)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from conftest import AES_KEY, free_port

from bot.cli import main
from bot.config import Settings
from devtools.fake_wechat import FakeWeChat


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "check.toml"
    path.write_text(text, encoding="utf-8")
    return path


def good(settings: Settings, **wechat: str) -> str:
    """A production config that passes: https, a real secret, a token, a migrated database."""
    extra = "".join(f'{key} = "{value}"\n' for key, value in wechat.items())
    return (
        "[app]\n"
        f'database_url = "{settings.app.database_url}"\n'
        'secret_key = "kq3v8N2m-long-random-secret-value"\n'
        'public_url = "https://ysk.example.org"\n'
        "[web]\n"
        "trusted_proxies = 1\n"
        "[wechat]\n"
        'token = "yishiting2024"\n'
        f'encoding_aes_key = "{AES_KEY}"\n' + extra
    )


def check(path: Path, *more: str) -> Result:
    return CliRunner().invoke(main, ["check-config", "--config", str(path), *more])


def problems(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("✗ ")]


def test_a_good_config_passes(settings: Settings, tmp_path: Path) -> None:
    result = check(config(tmp_path, good(settings)))
    assert result.exit_code == 0, result.output
    assert problems(result) == []
    assert "✓ database reachable, migrations current (sqlite)" in result.output
    assert "✓ menu: the default (3 buttons)" in result.output
    assert result.output.rstrip().endswith("配置检查通过 (ok)")


def test_every_local_problem_is_named_with_its_fix_in_one_run(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        "[app]\n"
        'database_url = "sqlite:///missing.db"\n'
        'secret_key = "change-me"\n'
        'public_url = "http://ysk.example.org"\n'
        "[wechat]\n"
        'token = ""\n'
        'encoding_aes_key = "tooshort"\n'
        'app_secret = "s"\n'
        'templates = "notice=T1, tikcet.assigned=T2"\n'
        'tokne = "typo"\n'
        '[[menu]]\nname = "我要反映"\nkey = "MENU_NOPE"\n',
    )
    result = check(path)
    assert result.exit_code == 1
    found = problems(result)
    assert all(" — " in line for line in found), found  # each with its fix
    expected = [
        "✗ [wechat] encoding_aes_key: must be 43 characters (got 8)",
        "✗ unknown key [wechat] tokne ignored",
        "✗ [app] secret_key is the example or too short — set [app] secret_key",
        "✗ [wechat] token is empty — choose one and enter it in 公众号后台",
        "✗ [app] public_url is not https (http://ysk.example.org)",
        "✗ [wechat] app_secret without app_id — copy 开发者ID(AppID)",
        "✗ [wechat] templates: unknown kind(s) tikcet.assigned",
        "✗ database",
        "✗ [[menu]] #1 (我要反映): unknown key 'MENU_NOPE'",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in found), (start, result.output)
    assert "does not exist — run `yishiting init --config" in result.output
    assert result.output.rstrip().endswith(f"{len(found)} problem(s) found")


def test_an_unreachable_database_is_named(settings: Settings, tmp_path: Path) -> None:
    url = f"postgresql+psycopg://yishiting:pw@127.0.0.1:{free_port()}/yishiting"
    text = good(settings).replace(settings.app.database_url, url)
    result = check(config(tmp_path, text))
    assert result.exit_code == 1
    [line] = problems(result)
    assert line.startswith("✗ database unreachable: ")
    assert line.endswith(
        "check [app] database_url and that the database server runs and lets this user in"
    )


def test_online_asks_wechat_and_finds_the_templates(
    settings: Settings, tmp_path: Path, fake: FakeWeChat
) -> None:
    fake.private_templates = {"TPL_NOTICE": "社区通知", "TPL_TODO": "待办提醒"}
    text = good(
        settings,
        app_id=fake.app_id,
        app_secret=fake.app_secret,
        api_base_url=fake.url,
        templates="notice=TPL_NOTICE, ticket.assigned=TPL_GONE",
    )
    result = check(config(tmp_path, text), "--online")
    assert result.exit_code == 1
    for line in (
        "✓ access token: fetched (stable_token)",
        "✓ this server's IP is on the account's IP whitelist",
        "✓ customer-service messages (客服消息): allowed",
        "✓ template for notice: TPL_NOTICE (社区通知)",
    ):
        assert line in result.output, result.output
    legacy, missing = problems(result)
    assert legacy.startswith("✗ [wechat] templates: keyword templates (first, keyword1…, remark)")
    assert '[templates."KIND"]' in legacy
    assert missing.startswith("✗ template TPL_GONE (for ticket.assigned) is not among")
    assert "我的模板" in missing


def test_online_names_a_missing_field_a_wrong_type_and_a_missing_template(
    settings: Settings, tmp_path: Path, fake: FakeWeChat
) -> None:
    fake.add_template(
        "TPL_DONE",
        "诉求办结通知",
        "编号{{character_string1.DATA}}\n结果{{thing2.DATA}}\n时间{{time3.DATA}}",
    )
    fake.add_template("TPL_NOTICE", "社区通知", "内容{{thing1.DATA}}\n时间{{time2.DATA}}")
    text = good(settings, app_id=fake.app_id, app_secret=fake.app_secret, api_base_url=fake.url)
    text += (
        '[templates."ticket.resolved"]\nid = "TPL_DONE"\n'
        'fields = { character_string1 = "{outcome}", thing2 = "{outcome}", '
        'time4 = "{resolved_at}" }\n'
        '[templates."ticket.accepted"]\nid = "TPL_GONE"\nfields = { thing1 = "{headline}" }\n'
        '[templates.notice]\nid = "TPL_NOTICE"\n'
        'fields = { thing1 = "{text}", time2 = "{sent_at}" }\n'
    )
    result = check(config(tmp_path, text), "--online")
    assert result.exit_code == 1
    found = problems(result)
    where = '✗ [templates."ticket.resolved"]'
    expected = [
        f"{where} fields.character_string1: '{{outcome}}' cannot fit character_string (32 "
        "letters, digits or symbols, no Chinese)",
        f"{where} fields: template TPL_DONE (诉求办结通知) has no field time4 — its fields are "
        "character_string1, thing2, time3",
        f"{where}: field time3 of template TPL_DONE is left empty",
        "✗ template TPL_GONE (for ticket.accepted) is not among the account's templates",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in found), (start, result.output)
    assert len(found) == len(expected), result.output
    assert "✓ template for notice: TPL_NOTICE (社区通知)" in result.output


def test_online_explains_an_ip_not_on_the_whitelist(
    settings: Settings, tmp_path: Path, fake: FakeWeChat
) -> None:
    text = good(settings, app_id=fake.app_id, app_secret=fake.app_secret, api_base_url=fake.url)
    fake.script("token", [40164])
    result = check(config(tmp_path, text), "--online")
    assert result.exit_code == 1
    assert "✗ this server's IP (127.0.0.1) is not on the IP whitelist — add it in 公众号后台" in (
        result.output
    )
    assert "IP白名单" in result.output


def test_online_names_a_channel_the_account_may_not_use(
    settings: Settings, tmp_path: Path, fake: FakeWeChat
) -> None:
    text = good(settings, app_id=fake.app_id, app_secret=fake.app_secret, api_base_url=fake.url)
    fake.script("kf_list", [48001])
    result = check(config(tmp_path, text), "--online")
    assert result.exit_code == 1
    [line] = problems(result)
    assert line.startswith("✗ customer-service messages (客服消息): the account may not use them")
    assert "微信认证" in line


def test_online_with_a_wrong_secret_says_which_setting(
    settings: Settings, tmp_path: Path, fake: FakeWeChat
) -> None:
    text = good(settings, app_id=fake.app_id, app_secret="wrong", api_base_url=fake.url)
    result = check(config(tmp_path, text), "--online")
    assert result.exit_code == 1
    [line] = problems(result)
    assert line.startswith("✗ access token: could not be fetched — errcode 40001")
    assert "[wechat] app_secret" in line


def test_online_compares_the_subscription_notices_too(
    settings: Settings, tmp_path: Path, fake: FakeWeChat
) -> None:
    content = "编号{{character_string1.DATA}}\n结果{{thing2.DATA}}"
    fake.add_template("SUB_DONE", "诉求办结提醒", content, notice=2)
    fake.add_template("SUB_LONG", "社区通知", "内容{{thing1.DATA}}", notice=3)
    text = good(settings, app_id=fake.app_id, app_secret=fake.app_secret, api_base_url=fake.url)
    text += (
        '[subscriptions."ticket.resolved"]\nid = "SUB_DONE"\nlong_term = true\n'
        'fields = { character_string1 = "#{number}", thing2 = "{outcome}" }\n'
        '[subscriptions.notice]\nid = "SUB_LONG"\nfields = { thing1 = "{text}" }\n'
        '[subscriptions."ticket.accepted"]\nid = "SUB_GONE"\nfields = { thing1 = "{headline}" }\n'
    )
    result = check(config(tmp_path, text), "--online")
    assert result.exit_code == 1
    assert "✓ subscription notice for ticket.resolved: SUB_DONE (诉求办结提醒)" in result.output
    found = problems(result)
    expected = [
        '✗ [subscriptions."ticket.resolved"] long_term: SUB_DONE is one-time — set',
        '✗ [subscriptions."notice"] long_term: SUB_LONG is long-term — set',
        "✗ template SUB_GONE (for ticket.accepted) is not among the account's subscription notice",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in found), (start, result.output)
    assert len(found) == len(expected), result.output


def test_typed_mappings_of_unknown_kinds_are_named(settings: Settings, tmp_path: Path) -> None:
    text = good(settings) + '[templates."ticket.resolvd"]\nid = "T"\nfields = { thing1 = "x" }\n'
    result = check(config(tmp_path, text))
    assert result.exit_code == 1
    [line] = problems(result)
    assert line.startswith('✗ [templates."ticket.resolvd"]: unknown push kind — use push kinds:')


def test_accepting_plaintext_in_safe_mode_is_warned_about_while_it_is_on(
    settings: Settings, tmp_path: Path
) -> None:
    on = check(config(tmp_path, good(settings) + "accept_plaintext = true\n"))
    assert on.exit_code == 0, on.output  # a warning, meant for the switch-over: not a failure
    [warning] = [line for line in on.output.splitlines() if line.startswith("! ")]
    assert "accept_plaintext = true" in warning and "安全模式" in warning
    off = check(config(tmp_path, good(settings)))
    assert not [line for line in off.output.splitlines() if line.startswith("! ")]


def test_server_settings_left_at_laptop_defaults_are_warned_about(
    settings: Settings, tmp_path: Path
) -> None:
    """Upgraded servers: https behind nginx without [web] trusted_proxies (every client would
    be the proxy), and on PostgreSQL no spool or media folder (next to /etc/yishiting)."""
    text = good(settings).replace("trusted_proxies = 1", "trusted_proxies = 0")
    result = check(config(tmp_path, text))
    assert result.exit_code == 0, result.output  # warnings, not failures
    [warning] = [line for line in result.output.splitlines() if line.startswith("! ")]
    assert "trusted_proxies = 0" in warning and "trusted_proxies = 1" in warning
    postgres = text.replace(settings.app.database_url, "postgresql+psycopg://u@/nowhere")
    warned = [
        line for line in check(config(tmp_path, postgres)).output.splitlines() if line[:2] == "! "
    ]
    assert any("[webhook] spool_dir" in line for line in warned), warned
    assert any('[media] dir = "/var/lib/yishiting/media"' in line for line in warned), warned
