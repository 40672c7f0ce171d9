"""The `yishiting` command: init, simulate; --config on every subcommand; clean stdout."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from conftest import AES_KEY, LiveServer, inbound_count, make_app
from sqlalchemy import inspect

from bot.cli import main
from bot.config import Settings, load_settings
from bot.db import Database
from handlers import texts


def test_init_creates_the_database_and_is_idempotent(empty_config_path: Path) -> None:
    config_path = empty_config_path
    settings = load_settings(config_path, environ={})
    assert not (config_path.parent / "test.db").exists()
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["init", "--config", str(config_path)])
        assert result.exit_code == 0, result.output
        assert "database ready" in result.stdout
    db = Database(settings)
    assert {"person", "inbound_message", "alembic_version"} <= set(
        inspect(db.engine).get_table_names()
    )
    db.dispose()


def test_init_password_hint_is_a_command_that_runs_as_printed(empty_config_path: Path) -> None:
    # The program as `make run` runs it (`.venv/bin/yishiting`), from the config's folder.
    program = Path(sys.executable).parent / "yishiting"
    folder = empty_config_path.parent
    env = {**os.environ, "YISHITING_CONFIG": ""}
    init = subprocess.run(
        [str(program), "init", "--config", "config.toml"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    hint = re.search(r"change it with `([^`]+)`", init.stdout)
    assert hint is not None, init.stdout
    assert hint[1] == f"{shlex.quote(str(program))} admin password --config config.toml admin"
    # Pasted as printed (it would ask for the new password; here it is given).
    again = subprocess.run(
        [*shlex.split(hint[1]), "--password", "a-new-password-1"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "password changed for admin"


def test_init_reads_yishiting_config(config_path: Path) -> None:
    result = CliRunner().invoke(main, ["init"], env={"YISHITING_CONFIG": str(config_path)})
    assert result.exit_code == 0, result.output


def test_commands_without_a_config_say_how_to_give_one() -> None:
    result = CliRunner().invoke(main, ["init"], env={"YISHITING_CONFIG": ""})
    assert result.exit_code == 2
    assert "--config" in result.stderr


def test_a_bad_config_is_refused_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[app]\nmode = "staging"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["init", "--config", str(path)])
    assert result.exit_code == 1
    assert "[app] mode" in result.stderr
    assert result.stdout == ""


def test_simulate_prints_the_reply_and_nothing_else(
    config_path: Path, live_server: LiveServer, settings: Settings
) -> None:
    result = CliRunner().invoke(
        main, ["simulate", "--config", str(config_path), "--url", live_server.url, "帮助"]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("议事厅可以为您办理")
    assert inbound_count(settings) == 1


def test_simulate_shows_the_pushes_a_message_caused(
    config_path: Path, live_server: LiveServer, settings: Settings
) -> None:
    runner = CliRunner()
    added = runner.invoke(
        main,
        [
            "staff",
            "add",
            "--config",
            str(config_path),
            "--openid",
            "o_wang",
            "--name",
            "王师傅",
            "--topic",
            "电梯设施",
        ],
    )
    assert added.exit_code == 0, added.output
    subscribe_a_platform(settings)  # its webhook delivery is no one's WeChat push
    result = runner.invoke(
        main,
        [
            "simulate",
            "--config",
            str(config_path),
            "--url",
            live_server.url,
            "--pushes",
            "3号楼电梯坏了，困住了两个老人，一直在报警",
        ],
    )
    assert result.exit_code == 0, result.stderr
    reply, _, pushed = result.stdout.partition("—— 推送给 o_wang ——")
    assert "#1" in reply and "电梯设施" in reply
    assert "【新诉求待办】" in pushed and "接单 1" in pushed
    assert "群发" not in result.stdout and "no template" not in result.stdout


def subscribe_a_platform(settings: Settings) -> None:
    from models.api.keys import create_key, parse_scopes
    from models.api.webhooks import WebhookSubscription

    db = Database(settings)
    now = datetime.now(UTC)
    with db.session() as session:
        key, _ = create_key(
            session,
            name="12345平台",
            scopes=parse_scopes("tickets:read"),
            community_id=None,
            created_by="测试",
            now=now,
        )
        session.add(
            WebhookSubscription(
                key_id=key.id,
                url="http://127.0.0.1:9/hooks",
                events="ticket.created",
                secret="platform-secret-0123456789",
                created_at=now,
            )
        )
    db.dispose()


def test_simulate_sends_events(config_path: Path, live_server: LiveServer) -> None:
    runner = CliRunner()
    args = ["simulate", "--config", str(config_path), "--url", live_server.url]
    welcome = runner.invoke(main, [*args, "--event", "subscribe", "--as", "o_new"])
    assert welcome.stdout.strip() == texts.WELCOME
    leave = runner.invoke(main, [*args, "--event", "unsubscribe", "--as", "o_new"])
    assert leave.exit_code == 0
    assert leave.stdout == ""
    assert "no reply" in leave.stderr


def test_simulate_in_safe_mode_encrypts_and_reads_the_encrypted_reply(
    tmp_path: Path, config_path: Path
) -> None:
    safe_path = tmp_path / "safe.toml"
    safe_path.write_text(
        config_path.read_text(encoding="utf-8") + f'encoding_aes_key = "{AES_KEY}"\n',
        encoding="utf-8",
    )
    safe = load_settings(safe_path, environ={})
    assert safe.safe_mode
    with LiveServer(make_app(safe)) as server:
        result = CliRunner().invoke(
            main, ["simulate", "--config", str(safe_path), "--url", server.url, "帮助"]
        )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("议事厅可以为您办理")


def test_simulate_defaults_to_public_url(
    tmp_path: Path, config_path: Path, live_server: LiveServer
) -> None:
    result = CliRunner().invoke(
        main,
        ["simulate", "--config", str(config_path), "你好"],
        env={"YISHITING_APP_PUBLIC_URL": live_server.url},
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == texts.GREETING


def test_simulate_explains_an_unreachable_server(config_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["simulate", "--config", str(config_path), "--url", "http://127.0.0.1:9", "你好"]
    )
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:9" in result.stderr
    assert result.stdout == ""


def test_simulate_reports_a_refusal(
    tmp_path: Path, config_path: Path, live_server: LiveServer
) -> None:
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(
        config_path.read_text(encoding="utf-8").replace("test-token-5f2c", "another-token"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["simulate", "--config", str(wrong), "--url", live_server.url, "你好"]
    )
    assert result.exit_code == 1
    assert "answered 403" in result.stderr
