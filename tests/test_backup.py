"""`yishiting backup` and `restore`, as an administrator uses them: the tickets residents
filed, the ballots they cast and the rules an admin changed all come back from a backup
restored into an empty database; a restore never overwrites a database in use."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import Chat, WeChat, make_app

from bot.cli import main
from bot.config import Settings

TICKETS = ["3号楼楼道灯坏了好几天了，晚上很黑", "小区东门的垃圾桶满了没人清理"]
NEW_RULE = '  { keyword = "轿厢异响", weight = 2 },\n'


@pytest.fixture
def admin_env(backend_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The admin's shell: the config file, and the database URL the settings use."""
    monkeypatch.setenv("YISHITING_APP_DATABASE_URL", backend_settings.app.database_url)
    yield backend_settings


def yishiting(settings: Settings, *args: str) -> Result:
    result = CliRunner().invoke(main, [args[0], *args[1:], "--config", settings.source])
    return result


def ok(settings: Settings, *args: str) -> str:
    result = yishiting(settings, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def community_activity(settings: Settings, tmp_path: Path) -> None:
    """Residents file tickets and vote; an admin changes a rule."""
    app = make_app(settings)
    wechat = WeChat(app.test_client(), settings)
    for number, text in enumerate(TICKETS, 1):
        reply = Chat(wechat, f"o_resident_{number}").say(text)
        assert reply is not None and f"#{number}" in reply
    closes = (datetime.now(UTC) + timedelta(days=3)).isoformat(timespec="minutes")
    ok(settings, "poll", "create", "--title", "东门加装快递柜", "--option", "同意",
       "--option", "不同意", "--anyone", "--closes-at", closes)  # fmt: skip
    receipt = Chat(wechat, "o_resident_1").say("投票 1 A")
    assert receipt is not None and receipt.startswith("已记录")
    app.extensions["yishiting"].db.dispose()
    rules = tmp_path / "rules.toml"
    ok(settings, "rules", "export", str(rules))
    text = rules.read_text(encoding="utf-8")
    at = text.index("rules = [\n", text.index('name = "电梯设施"')) + len("rules = [\n")
    rules.write_text(text[:at] + NEW_RULE + text[at:], encoding="utf-8")
    assert "轿厢异响" in ok(settings, "rules", "import", str(rules))


def what_people_see(settings: Settings) -> dict[str, str]:
    return {
        "tickets": ok(settings, "tickets", "list", "--json"),
        "poll": ok(settings, "poll", "show", "1", "--json"),
        "rules": ok(settings, "rules", "export", "-"),
    }


def empty_database(settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new database of the same kind, with nothing in it: its URL."""
    if settings.app.database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    return str(request.getfixturevalue("postgres_cluster").new_database())


def test_a_restored_backup_has_every_ticket_ballot_and_rule(
    admin_env: Settings,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = admin_env
    community_activity(settings, tmp_path)
    before = what_people_see(settings)
    assert "3号楼楼道灯坏了" in before["tickets"] and '"A": 1' in before["poll"]
    assert "轿厢异响" in before["rules"]

    out = tmp_path / "yishiting.backup"
    assert ok(settings, "backup", str(out)).startswith(f"backup written: {out}")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # residents' data: owner only

    url = empty_database(settings, tmp_path, request)
    monkeypatch.setenv("YISHITING_APP_DATABASE_URL", url)
    target = settings.replace(app={"database_url": url})
    assert ok(target, "restore", str(out)).startswith(f"restored {out}")
    ok(target, "init")  # the documented step after a restore: nothing to migrate here
    assert what_people_see(target) == before


def test_restore_refuses_a_database_that_has_tables(admin_env: Settings, tmp_path: Path) -> None:
    out = tmp_path / "yishiting.backup"
    ok(admin_env, "backup", str(out))
    result = yishiting(admin_env, "restore", str(out))
    assert result.exit_code == 1
    assert "a restore goes only into an empty database" in result.stderr
    assert "nothing was changed" in result.stderr
    assert "Traceback" not in result.output


def test_restore_refuses_a_file_that_is_not_a_backup(admin_env: Settings, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup", encoding="utf-8")
    result = yishiting(admin_env, "restore", str(junk))
    assert result.exit_code == 1
    assert "is not a Yishiting backup" in result.stderr
