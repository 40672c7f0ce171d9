"""What the subcommands share: the `--config` option and loading settings from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import click
from sqlalchemy.orm import Session

from models.communities import STREET, Scope, community_by_name

from ..config import CONFIG_ENV, Account, ConfigError, Settings, load_settings
from ..logs import configure_logging

F = TypeVar("F", bound=Callable[..., Any])


class _CommunityRow(Protocol):
    @property
    def community_id(self) -> int | None: ...


R = TypeVar("R", bound=_CommunityRow)


def config_option(func: F) -> F:
    """`--config PATH`, defaulting to $YISHITING_CONFIG."""
    return click.option(
        "--config",
        "config_path",
        envvar=CONFIG_ENV,
        type=click.Path(dir_okay=False),
        help=f"The TOML config file (default: ${CONFIG_ENV}).",
    )(func)


def community_option(func: F) -> F:
    """`--community NAME`: work in that community only (without it: the whole street)."""
    return click.option(
        "--community",
        "community",
        metavar="NAME",
        help="Only this community (社区); without it, the whole street.",
    )(func)


def scope_of(session: Session, community: str | None) -> Scope:
    """The scope `--community NAME` names; exits with the reason for an unknown name."""
    if community is None:
        return STREET
    found = community_by_name(session, community)
    if found is None:
        raise click.ClickException(f"no community named {community!r} (see `community list`)")
    return Scope(found.id)


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


def row_in_scope(scope: Scope, found: R | None, name: str, *, changing: bool) -> R:
    """A numbered row (`name`: "议题 #3", "poll #2", "meeting #1") as `--community` sees it:
    another community's is "no <name>", like a missing one; a street-wide row is read by a
    community but changed only by the street. One rule for every command that takes a number."""
    if found is None or not scope.covers(found.community_id):
        raise click.ClickException(f"no {name}")
    if changing and not scope.owns(found.community_id):
        raise click.ClickException(
            f"{name} is the whole street's: only the street changes it (run it without --community)"
        )
    return found
