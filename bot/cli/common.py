"""What the subcommands share: the `--config` option and loading settings from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..config import CONFIG_ENV, ConfigError, Settings, load_settings
from ..logs import configure_logging

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """`--config PATH`, defaulting to $YISHITING_CONFIG."""
    return click.option(
        "--config",
        "config_path",
        envvar=CONFIG_ENV,
        type=click.Path(dir_okay=False),
        help=f"The TOML config file (default: ${CONFIG_ENV}).",
    )(func)


def settings_from(config_path: str | None) -> Settings:
    """Load and validate the config, or exit with the reason; logging goes to stderr."""
    if not config_path:
        raise click.UsageError(f"no config: pass --config PATH or set {CONFIG_ENV}")
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        raise click.ClickException(f"config: {exc}") from None
    configure_logging(settings.app.log_level)
    return settings
