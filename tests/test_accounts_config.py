"""`[[accounts]]` in the config: read, checked by `check-config` line by line, and used by
`simulate --account`; a config with the old `[wechat]` table is one account, "default"."""

from __future__ import annotations

from pathlib import Path

import pytest
from accounts import ACCOUNTS, accounts_toml, multi_config
from click.testing import CliRunner, Result
from conftest import TOKEN, LiveServer, db_of, make_app
from flask import Flask
from sqlalchemy import select

from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from devtools.simulator import message_xml
from models import Person


def write(folder: Path, text: str) -> Path:
    path = folder / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def production(settings: Settings, accounts: str) -> str:
    """A production config that passes check-config, with these [[accounts]] tables."""
    return (
        "[app]\n"
        f'database_url = "{settings.app.database_url}"\n'
        'secret_key = "kq3v8N2m-long-random-secret-value"\n'
        'public_url = "https://street.example.org"\n'
        "[web]\ntrusted_proxies = 1\n" + accounts
    )


def check(path: Path) -> Result:
    return CliRunner().invoke(main, ["check-config", "--config", str(path)])


def test_a_legacy_wechat_table_is_one_account_named_default(settings: Settings) -> None:
    [account] = settings.accounts
    assert (account.name, account.community, account.legacy) == ("default", "", True)
    assert account.token == TOKEN and account.stored_name is None
    assert settings.account("default") is account and settings.account_of(None) is account


def test_the_environment_still_overrides_the_legacy_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[wechat]\ntoken = "fromfile"\n')
    settings = load_settings(path, {"YISHITING_WECHAT_TOKEN": "fromenv"})
    assert settings.accounts[0].token == "fromenv"


def test_accounts_are_read_in_order_with_their_community(tmp_path: Path) -> None:
    settings = load_settings(multi_config(tmp_path), {})
    assert [a.name for a in settings.accounts] == ["a", "b", "street"]
    a, b, street = settings.accounts
    assert a.community == "东社区" and a.safe_mode and not street.safe_mode
    assert street.street_wide and not a.street_wide
    assert (a.token_key, b.token_key) == ("wechat:wx_a", "wechat:wx_b")
    # A person with no account stored (made before accounts, or by the CLI) is the first's.
    assert settings.account_of(None) is a and settings.account_of("gone") is None


def test_wechat_account_keys_beside_accounts_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[wechat]\ntoken = "x"\n' + accounts_toml())
    with pytest.raises(ConfigError, match=r"\[wechat\] token: with \[\[accounts\]\]"):
        load_settings(path, {})


def test_a_valid_several_account_config_passes_check_config(
    settings: Settings, tmp_path: Path
) -> None:
    result = check(write(tmp_path, production(settings, accounts_toml(secrets=True))))
    assert result.exit_code == 0, result.output
    assert "✓ [[accounts]] a token is set" in result.output
    assert "✓ [[accounts]] a: served at /wechat/a, for 东社区" in result.output
    assert "✓ [[accounts]] street: served at /wechat/street, for the whole street" in result.output


def test_check_config_names_the_account_of_every_problem(
    settings: Settings, tmp_path: Path
) -> None:
    broken = (
        '[[accounts]]\nname = "a"\ncommunity = "东社区"\ntoken = "tokenA1"\napp_id = "wx_a"\n'
        '[[accounts]]\nname = "a"\ncommunity = "西社区"\ntoken = "tokenB2"\napp_id = "wx_b"\n'
        '[[accounts]]\nname = "c"\ncommunity = "南社区"\ntoken = "tokenC3"\napp_id = "wx_a"\n'
        '[[accounts]]\nname = "d"\ncommunity = "北社区"\napp_id = "wx_d"\n'
        '[[accounts]]\nname = "Bad Name"\ncommunity = "street"\ntoken = "t"\napp_id = "wx_e"\n'
    )
    result = check(write(tmp_path, production(settings, broken)))
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("✗ ")]
    for start in (
        "✗ [[accounts]] a name: two entries are named 'a'",
        "✗ [[accounts]] c app_id: 'wx_a' is also account a's",
        "✗ [[accounts]] d token: required (every account has its own)",
        "✗ [[accounts]] Bad Name name: 1-32 lower-case letters",
    ):
        assert any(line.startswith(start) for line in problems), (start, result.output)
    assert all("[[accounts]] example in config.example.toml" in p for p in problems[:4])


def test_accounts_sharing_the_top_level_templates_are_named(
    settings: Settings, tmp_path: Path
) -> None:
    typed = '[templates.notice]\nid = "T1"\nfields = { thing1 = "{text}" }\n'
    result = check(write(tmp_path, production(settings, typed + accounts_toml())))
    assert result.exit_code == 1
    assert "✗ [[accounts]] a, b, street: share the top-level [templates.*]" in result.output
    own = accounts_toml().replace(
        '[[accounts]]\nname = "b"',
        '[accounts.typed_templates.notice]\nid = "TA"\nfields = { thing1 = "{text}" }\n'
        '[[accounts]]\nname = "b"',
    )
    passed = check(write(tmp_path, production(settings, typed + own)))
    assert "share the top-level" in passed.output  # b and street still share T1
    assert "[[accounts]] a, " not in passed.output


def test_a_bad_account_menu_is_named_with_its_account(settings: Settings, tmp_path: Path) -> None:
    menu = '[[accounts.menu]]\nname = "我要反映"\nkey = "MENU_NOPE"\n'
    result = check(write(tmp_path, production(settings, accounts_toml() + menu)))
    assert result.exit_code == 1
    assert "✗ [[accounts]] street: [[menu]] #1 (我要反映): unknown key 'MENU_NOPE'" in result.output


@pytest.fixture
def multi_server(config_path: Path) -> tuple[Flask, Settings]:
    settings = load_settings(multi_config(config_path.parent), {})
    return make_app(settings), settings


def test_simulate_signs_for_the_account_named_and_posts_to_its_path(
    multi_server: tuple[Flask, Settings],
) -> None:
    app, settings = multi_server
    runner = CliRunner()
    with LiveServer(app) as server:
        args = ["simulate", "--config", settings.source, "--url", server.url]
        reply = runner.invoke(main, [*args, "--account", "b", "--as", "o_west", "帮助"])
        assert reply.exit_code == 0, reply.output
        assert reply.stdout.startswith("议事厅可以为您办理")
        unnamed = runner.invoke(main, [*args, "--as", "o_west", "帮助"])
        assert unnamed.exit_code == 2 and "choose one with --account" in unnamed.output
    with db_of(app).session(read_only=True) as session:
        assert session.scalar(select(Person.account).where(Person.openid == "o_west")) == "b"
    db_of(app).dispose()


def test_a_spooled_message_is_replayed_as_its_accounts(
    multi_server: tuple[Flask, Settings],
) -> None:
    app, _ = multi_server
    spool = app.extensions["yishiting.spool"]
    spool.write(message_xml("o_spooled", text="帮助").encode(), (1_700_000_000, "42"), account="b")
    assert spool.replay() == 1
    with db_of(app).session(read_only=True) as session:
        assert session.scalar(select(Person.account).where(Person.openid == "o_spooled")) == "b"
    db_of(app).dispose()


def test_accounts_values_are_the_tests_own() -> None:
    """The fixtures' accounts differ in everything that signs or decrypts."""
    tokens = {v["token"] for v in ACCOUNTS.values()}
    keys = {v["aes"] for v in ACCOUNTS.values()}
    assert len(tokens) == 3 and len(keys) == 3


def test_devconfig_writes_accounts_when_asked_and_one_account_otherwise(tmp_path: Path) -> None:
    from devtools.devconfig import main as devconfig

    example = str(Path(__file__).parent.parent / "config.example.toml")
    single, several = tmp_path / "one.toml", tmp_path / "several.toml"
    assert devconfig([example, str(single)]) == 0
    [account] = load_settings(single, {}).accounts
    assert account.legacy and account.token
    accounts = ["--account", "east:东社区", "--account", "west:西社区", "--account", "all:street"]
    assert devconfig([example, str(several), *accounts]) == 0
    settings = load_settings(several, {})
    assert [(a.name, a.community) for a in settings.accounts] == [
        ("east", "东社区"),
        ("west", "西社区"),
        ("all", "street"),
    ]
    assert len({a.token for a in settings.accounts}) == 3 and settings.console_pushes
    with pytest.raises(SystemExit):
        devconfig([example, str(tmp_path / "bad.toml"), "--account", "East Side"])


def test_a_production_deployment_with_accounts_starts(settings: Settings, tmp_path: Path) -> None:
    """[wechat] token stays empty beside [[accounts]]: each account's own token counts."""
    from bot.config import refuse_unsafe_start

    path = write(tmp_path, production(settings, accounts_toml(secrets=True)))
    refuse_unsafe_start(load_settings(path, {}), web=False)


def test_an_accounts_community_name_maps_to_its_community_id() -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from models.communities import HOME_ID, community_id_of

    engine = create_engine("sqlite://")
    with engine.begin() as conn:  # the community table as migration 0017 makes it
        conn.execute(text("CREATE TABLE community (id INTEGER PRIMARY KEY, name VARCHAR(32))"))
        conn.execute(text("INSERT INTO community (id, name) VALUES (1, '本社区'), (2, '东社区')"))
    with Session(engine) as session:
        assert community_id_of(session, "") == HOME_ID
        assert community_id_of(session, "东社区") == 2
        assert community_id_of(session, "street") is None
        assert community_id_of(session, "无此社区") is None


def test_an_unknown_account_key_is_named_as_a_warning(settings: Settings, tmp_path: Path) -> None:
    typo = accounts_toml(secrets=True).replace('name = "b"', 'name = "b"\ntokne = "x"')
    result = check(write(tmp_path, production(settings, typo)))
    assert "✗ unknown key [[accounts]] b tokne ignored" in result.output, result.output
