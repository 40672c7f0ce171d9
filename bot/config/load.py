"""Reading settings: defaults, then the TOML file, then `YISHITING_SECTION_KEY` variables."""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .accounts import Account, parse_accounts
from .checks import validate
from .errors import ConfigError
from .menu import Button, parse_menu
from .sections import CONFIG_ENV, ENV_PREFIX, SECTIONS
from .settings import Settings
from .templates import SUBSCRIPTIONS, TEMPLATES, TemplateMap, parse_maps

log = logging.getLogger(__name__)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    menu: bool = True,
) -> Settings:
    """Load settings from `path` (or `$YISHITING_CONFIG`) and the environment.

    `menu=False` skips `[[menu]]` (check-config reports its problems on their own)."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = environ.get(CONFIG_ENV) or None
    raw: dict[str, Any] = {}
    source = ""
    if path is not None:
        source = str(Path(path).resolve())
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    values = _from_file(raw)
    _apply_environment(values, environ)
    sections = {name: cls(**values.get(name, {})) for name, cls in SECTIONS.items()}
    buttons: tuple[Button, ...] = ()
    if menu and "menu" in raw:
        buttons = parse_menu(raw["menu"])
    maps = {name: _maps(name, raw) for name in (TEMPLATES, SUBSCRIPTIONS)}
    accounts: tuple[Account, ...] = ()
    if "accounts" in raw:
        shared = (maps[TEMPLATES], maps[SUBSCRIPTIONS], buttons)
        base_url = sections["wechat"].api_base_url
        accounts = parse_accounts(raw["accounts"], api_base_url=base_url, shared=shared, menu=menu)
    settings = Settings(
        **sections,
        menu=buttons,
        template_maps=maps[TEMPLATES],
        subscription_maps=maps[SUBSCRIPTIONS],
        configured_accounts=accounts,
        source=source,
    )
    settings = _resolve_sqlite_path(settings)
    return validate(settings)


def _maps(section: str, raw: Mapping[str, Any]) -> tuple[TemplateMap, ...]:
    if section not in raw:
        return ()
    try:
        return parse_maps(section, raw[section])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _from_file(raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {}
    for section, table in raw.items():
        if section in ("menu", "accounts", TEMPLATES, SUBSCRIPTIONS):
            # [[menu]]: bot/config/menu.py; the typed templates: _maps; [[accounts]]: accounts.py
            continue
        if section not in SECTIONS:
            log.warning("config: unknown section [%s] ignored", section)
            continue
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table")
        known = _field_types(SECTIONS[section])
        for key, value in table.items():
            if key not in known:
                log.warning("config: unknown key [%s] %s ignored", section, key)
                continue
            values.setdefault(section, {})[key] = _coerce(section, key, value, known[key])
    return values


def _apply_environment(values: dict[str, dict[str, Any]], environ: Mapping[str, str]) -> None:
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        for section, cls in SECTIONS.items():
            if rest.startswith(section + "_"):
                key = rest[len(section) + 1 :]
                known = _field_types(cls)
                if key in known:
                    values.setdefault(section, {})[key] = _coerce(section, key, text, known[key])
                    break
        else:
            log.warning("config: unknown environment variable %s ignored", name)


def _field_types(cls: type) -> dict[str, type]:
    return {f.name: type(f.default) for f in dataclasses.fields(cls)}


def _coerce(section: str, key: str, value: Any, kind: type) -> Any:
    """Turn a TOML or environment value into the key's type, or say why not."""
    where = f"[{section}] {key}"
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if kind is bool:
        return _boolean(where, value)
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    return number


def _boolean(where: str, value: Any) -> bool:
    """true/false in TOML; true/false, 1/0, yes/no in the environment."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"{where}: expected true or false, got {value!r}")


def _resolve_sqlite_path(settings: Settings) -> Settings:
    """A relative SQLite path is relative to the config file's folder, not the cwd."""
    if not settings.source:
        return settings
    try:
        url = make_url(settings.app.database_url)
    except ArgumentError:
        return settings  # validate() reports it
    db = url.database
    if url.get_backend_name() != "sqlite" or not db or db == ":memory:" or Path(db).is_absolute():
        return settings
    absolute = Path(settings.source).parent / db
    new_url = url.set(database=str(absolute)).render_as_string(hide_password=False)
    return dataclasses.replace(
        settings, app=dataclasses.replace(settings.app, database_url=new_url)
    )
