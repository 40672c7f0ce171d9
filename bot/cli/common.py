"""What the subcommands share: the `--config` option and loading settings from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..config import CONFIG_ENV, Account, ConfigError, Settings, load_settings
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


def account_option(func: F) -> F:
    """`--account NAME`: one of the config's Official Accounts ([[accounts]] name)."""
    return click.option(
        "--account",
        "account_name",
        metavar="NAME",
        help="The Official Account ([[accounts]] name); needed when the config has several.",
    )(func)


def choose_account(settings: Settings, name: str | None) -> Account:
    """The account `--account NAME` names; without it, the config's only account."""
    names = ", ".join(a.name for a in settings.accounts)
    if name is None:
        if len(settings.accounts) == 1:
            return settings.accounts[0]
        raise click.UsageError(
            f"this config has several accounts: choose one with --account ({names})"
        )
    account = settings.account(name)
    if account is None:
        raise click.UsageError(f"--account {name}: no such account in the config ({names})")
    return account
