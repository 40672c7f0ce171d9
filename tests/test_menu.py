"""The custom menu: `[[menu]]` checked at load, every key answered in the chat, `menu push`
and `menu show` against the fake WeChat API (errors explained in one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import Chat, WeChat, make_app

from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from bot.menu import click_keys, default_menu, menu_of, payload
from devtools.fake_wechat import FakeWeChat
from handlers import texts
from words.menu import MENU

MENU_TOML = """
[[menu]]
name = "我要反映"
key = "MENU_REPORT"

[[menu]]
name = "我的"
  [[menu.sub]]
  name = "我的诉求"
  key = "我的诉求"
  [[menu.sub]]
  name = "帮助"
  key = "MENU_HELP"

[[menu]]
name = "议事"
  [[menu.sub]]
  name = "参与投票"
  key = "参与投票"
  [[menu.sub]]
  name = "我要提议"
  key = "MENU_PROPOSE"
  [[menu.sub]]
  name = "社区公告栏"
  url = "https://ysk.example.org/notices"
"""


def config_with(settings: Settings, tmp_path: Path, extra: str, **wechat: str) -> Path:
    """A config on the test database, with `extra` TOML (e.g. [[menu]]) after [wechat]."""
    lines = [
        "[app]",
        f'database_url = "{settings.app.database_url}"',
        'secret_key = "s3cret-for-tests-long-enough"',
        'mode = "development"',
        "[wechat]",
        f'token = "{settings.wechat.token}"',
        *(f'{key} = "{value}"' for key, value in wechat.items()),
        extra,
    ]
    path = tmp_path / "menu.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def live(fake: FakeWeChat) -> dict[str, str]:
    return {"app_id": fake.app_id, "app_secret": fake.app_secret, "api_base_url": fake.url}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_the_default_menu_fits_wechat_and_holds_every_entry() -> None:
    menu = default_menu()
    assert 1 <= len(menu) <= 3
    assert sorted(click_keys(menu)) == sorted(entry.key for entry in MENU)
    assert payload(menu)["button"][-1]["name"] == "更多"


def test_every_key_a_menu_can_hold_gets_a_real_answer(settings: Settings, tmp_path: Path) -> None:
    configured = load_settings(config_with(settings, tmp_path, MENU_TOML), environ={})
    keys = click_keys(menu_of(configured))
    assert sorted(keys) == sorted(e.key for e in MENU)  # names were read as their keys
    app = make_app(configured)
    chat = Chat(WeChat(app.test_client(), configured), "o_tapper")
    for key in keys:
        answer = chat.do("CLICK", key=key)
        assert answer and answer not in (texts.MENU_UNKNOWN, texts.NOT_ALLOWED), key
    app.extensions["yishiting"].db.dispose()


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[[menu]]\nname = "我要反映"\nkey = "MENU_NOPE"',
            "#1 (我要反映): unknown key 'MENU_NOPE'",
        ),
        (
            '[[menu]]\nname = "我要反映问题"\nkey = "MENU_REPORT"',
            "#1 (我要反映问题): name too long",
        ),
        ('[[menu]]\nname = "帮助"\nkey = "MENU_HELP"\nurl = "https://x"', "give either key"),
        ('[[menu]]\nname = "帮助"', "#1 (帮助): give either key (a menu command) or url"),
        ('[[menu]]\nname = "网站"\nurl = "ftp://x"', "url must start with https://"),
        ("[[menu]]\nname = 'a'\nkey = 'MENU_HELP'\n" * 4, "4 top-level buttons"),
        (
            '[[menu]]\nname = "更多"\n' + '[[menu.sub]]\nname = "帮助"\nkey = "MENU_HELP"\n' * 6,
            "#1 (更多): 6 sub-buttons, WeChat allows 1 to 5",
        ),
        (
            '[[menu]]\nname = "更多"\n[[menu.sub]]\nname = "一二三四五六七八九"\nkey = "MENU_HELP"',
            "sub #1 (一二三四五六七八九): name too long",
        ),
    ],
)
def test_a_bad_menu_is_a_config_error_naming_the_entry(
    settings: Settings, tmp_path: Path, toml: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(config_with(settings, tmp_path, toml), environ={})
    assert expected in str(refused.value)
    assert str(refused.value).startswith("[[menu]]")


def test_menu_push_publishes_the_configured_menu(
    settings: Settings, tmp_path: Path, fake: FakeWeChat
) -> None:
    path = config_with(settings, tmp_path, MENU_TOML, **live(fake))
    pushed = run("menu", "push", "--config", str(path))
    assert pushed.exit_code == 0, pushed.output
    assert "published the menu from [[menu]] to WeChat" in pushed.output
    assert "社区公告栏 → view https://ysk.example.org/notices" in pushed.output
    published = fake.menu()
    assert published is not None
    assert published == payload(load_settings(path, environ={}).menu)
    assert published["button"][1]["sub_button"][0] == {
        "type": "click",
        "name": "我的诉求",
        "key": "MENU_MINE",
    }


def test_menu_show_compares_the_local_menu_with_wechats(
    settings: Settings, tmp_path: Path, fake: FakeWeChat
) -> None:
    path = config_with(settings, tmp_path, "", **live(fake))
    before = run("menu", "show", "--config", str(path))
    assert before.exit_code == 0, before.output
    assert "the default menu" in before.output and "on WeChat: no menu yet" in before.output
    assert run("menu", "push", "--config", str(path)).exit_code == 0
    after = run("menu", "show", "--config", str(path), "--json")
    shown = json.loads(after.stdout)
    assert shown["source"] == "default"
    assert shown["wechat"]["same"] is True
    assert shown["wechat"]["button"] == shown["configured"]["button"]


def test_menu_errors_from_wechat_are_explained_with_the_fix(
    settings: Settings, tmp_path: Path, fake: FakeWeChat
) -> None:
    path = config_with(settings, tmp_path, "", **live(fake))
    fake.script("token", [40164])
    refused = run("menu", "push", "--config", str(path))
    assert refused.exit_code == 1
    assert "40164" in refused.output and "127.0.0.1" in refused.output
    assert "IP白名单" in refused.output
    fake.script("menu_create", [48001])
    unauthorized = run("menu", "push", "--config", str(path))
    assert unauthorized.exit_code == 1 and "微信认证" in unauthorized.output
    [said] = [line for line in unauthorized.output.splitlines() if line.startswith("Error:")]
    assert said.startswith("Error: errcode 48001: ")  # one line: what, and the fix
    assert fake.menu() is None


def test_menu_push_without_an_app_secret_says_what_is_missing(
    settings: Settings, tmp_path: Path
) -> None:
    refused = run("menu", "push", "--config", str(config_with(settings, tmp_path, "")))
    assert refused.exit_code == 1 and "app_secret" in refused.output
    shown = run("menu", "show", "--config", str(config_with(settings, tmp_path, "")))
    assert shown.exit_code == 0 and "not asked (no [wechat] app_secret)" in shown.output


def test_the_example_config_documents_a_valid_menu_and_every_key() -> None:
    import tomllib

    from bot.config.menu import parse_menu

    example = (Path(__file__).resolve().parent.parent / "config.example.toml").read_text("utf-8")
    block = example[example.index("# [[menu]]") :]
    uncommented = "\n".join(line[2:] for line in block.splitlines() if line.startswith("# "))
    buttons = parse_menu(tomllib.loads(uncommented)["menu"])
    assert sorted(click_keys(buttons)) == sorted(entry.key for entry in MENU)
    for entry in MENU:
        assert f"{entry.key} {entry.name}" in example
