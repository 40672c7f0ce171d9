"""Settings: defaults → TOML → YISHITING_SECTION_KEY, validated once, bad keys named."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import write_config

from bot.config import ConfigError, load_settings
from devtools.devconfig import development_config

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_config_documents_every_key_and_loads() -> None:
    import tomllib

    from bot.config import SECTIONS
    from bot.config.load import _field_types

    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    for section, cls in SECTIONS.items():
        assert set(example[section]) == set(_field_types(cls)), section
    settings = load_settings(ROOT / "config.example.toml", environ={})
    assert settings.app.mode == "production"
    assert settings.app.timezone == "Asia/Shanghai"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", wechat={"token": "from-file"})
    settings = load_settings(
        path,
        environ={
            "YISHITING_WECHAT_TOKEN": "from-env",
            "YISHITING_WECHAT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "YISHITING_WEBHOOK_MAX_BODY_BYTES": "4096",
            "YISHITING_APP_DB_BUSY_TIMEOUT_SECONDS": "2.5",
        },
    )
    assert settings.wechat.token == "from-env"
    assert settings.safe_mode
    assert settings.webhook.max_body_bytes == 4096
    assert settings.app.db_busy_timeout_seconds == 2.5


def test_yishiting_config_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", app={"timezone": "Asia/Urumqi"})
    settings = load_settings(environ={"YISHITING_CONFIG": str(path)})
    assert settings.app.timezone == "Asia/Urumqi"


def test_unknown_keys_are_warned_about_by_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_config(tmp_path / "c.toml", app={"databse_url": "x"}, wechaat={"token": "t"})
    with caplog.at_level(logging.WARNING):
        load_settings(path, environ={"YISHITING_APP_COLOUR": "red"})
    warnings = " | ".join(r.getMessage() for r in caplog.records)
    assert "[app] databse_url" in warnings
    assert "[wechaat]" in warnings
    assert "YISHITING_APP_COLOUR" in warnings


@pytest.mark.parametrize(
    "sections, named",
    [
        ({"app": {"mode": "staging"}}, "[app] mode"),
        ({"app": {"timezone": "Mars/Olympus"}}, "[app] timezone"),
        ({"app": {"database_url": "not a url"}}, "[app] database_url"),
        ({"app": {"public_url": "ftp://x"}}, "[app] public_url"),
        ({"app": {"secret_key": ""}}, "[app] secret_key"),
        ({"wechat": {"encoding_aes_key": "short"}}, "[wechat] encoding_aes_key"),
        ({"wechat": {"encoding_aes_key": "!" * 43}}, "[wechat] encoding_aes_key"),
        ({"wechat": {"token": 12345}}, "[wechat] token"),
        ({"webhook": {"max_body_bytes": "lots"}}, "[webhook] max_body_bytes"),
        ({"webhook": {"max_body_bytes": 10}}, "[webhook] max_body_bytes"),
    ],
)
def test_a_bad_value_is_refused_naming_the_key(
    tmp_path: Path, sections: dict[str, dict[str, object]], named: str
) -> None:
    path = write_config(tmp_path / "c.toml", **sections)
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        load_settings(path, environ={})


def test_a_bad_environment_value_is_refused_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[webhook\] max_body_bytes"):
        load_settings(environ={"YISHITING_WEBHOOK_MAX_BODY_BYTES": "64k"})


def test_broken_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[app\nmode = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_a_relative_sqlite_path_is_next_to_the_config_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", app={"database_url": "sqlite:///data/ys.db"})
    settings = load_settings(path, environ={})
    assert settings.app.database_url == f"sqlite:///{tmp_path}/data/ys.db"


def test_make_run_config_is_development_with_fresh_secrets(tmp_path: Path) -> None:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    first, second = development_config(example), development_config(example)
    path = tmp_path / "config.toml"
    path.write_text(first, encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.development
    assert not settings.safe_mode
    assert settings.app.database_url.startswith("sqlite:///")
    assert settings.app.secret_key not in ("change-me", "")
    assert len(settings.wechat.token) >= 16
    assert first != second  # every machine gets its own secrets
