"""`check-config`: every problem in a config that would stop the account working, each with
its fix on the same line; `--online` also asks WeChat (token, IP whitelist, permissions,
templates). Exit status 0 when all is well, 1 otherwise.

Local checks need no network; a setting the loader refuses is reported and, where it can be,
set aside (its default stands in) so the other problems show in the same run.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import click
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ..config import (
    ENV_PREFIX,
    EXAMPLE_SECRET_KEY,
    SECTIONS,
    ConfigError,
    Settings,
    load_settings,
)
from ..config.menu import read_menu
from ..menu import default_menu
from .check_accounts import account_findings, shared_template_findings
from .check_online import online_findings
from .common import config_option
from .findings import Finding

SECRET_FIX = (
    'set [app] secret_key to a long random value: python3 -c "import secrets; '
    'print(secrets.token_urlsafe(32))"'
)
FIXES = {
    "[app] secret_key": SECRET_FIX,
    "[app] database_url": 'a SQLAlchemy URL, e.g. "postgresql+psycopg://yishiting:PASSWORD@'
    'localhost/yishiting" or "sqlite:///yishiting.db"',
    "[app] public_url": 'the https address of this server, e.g. "https://ysk.example.org"',
    "[wechat] encoding_aes_key": "copy 消息加解密密钥 (EncodingAESKey, 43 characters) from "
    "公众号后台 → 设置与开发 → 基本配置 → 服务器配置, or leave it empty for 明文模式",
    "[wechat] templates": 'kind=TEMPLATE_ID pairs, comma-separated: "notice=AbC123, ..."',
    "[[menu]]": "see the [[menu]] example in config.example.toml",
    "[[accounts]]": "see the [[accounts]] example in config.example.toml",
    "[templates.": 'see the [templates."ticket.resolved"] example in config.example.toml',
    "[subscriptions.": 'see the [subscriptions."ticket.resolved"] example in config.example.toml',
    "config file": "pass the config's path with --config PATH",
}


@click.command("check-config")
@config_option
@click.option("--online", is_flag=True, help="Also ask WeChat: token, IP whitelist, permissions.")
def check_config(config_path: str | None, online: bool) -> None:
    """Check a config for everything that would stop the account working, each with its fix."""
    if not config_path:
        raise click.UsageError("no config: pass --config PATH or set YISHITING_CONFIG")
    settings, findings = load_findings(config_path)
    if settings is not None:
        findings += local_findings(settings)
        findings += menu_findings(config_path)
        if online:
            findings += online_findings(settings)
    for finding in findings:
        click.echo(finding.line())
    problems = sum(1 for f in findings if not f.ok)
    if problems:
        click.echo(f"{problems} problem(s) found")
        raise SystemExit(1)
    click.echo("配置检查通过 (ok)")


def load_findings(path: str) -> tuple[Settings | None, list[Finding]]:
    """Load the config; each refusal becomes a finding and its key's default stands in."""
    findings: list[Finding] = []
    overrides: dict[str, str] = {}
    settings: Settings | None = None
    with _warnings() as warned:
        while settings is None:
            try:
                settings = load_settings(path, {**os.environ, **overrides}, menu=False)
            except ConfigError as exc:
                for problem in getattr(exc, "problems", None) or [str(exc)]:
                    findings.append(Finding(False, problem, _fix(problem)))
                stand_in = _default_of(str(exc))
                if stand_in is None or stand_in[0] in overrides:
                    findings.append(Finding(False, "further checks skipped", "fix the above first"))
                    break
                overrides[stand_in[0]] = stand_in[1]
    for message in dict.fromkeys(warned):
        findings.append(Finding(False, message, "check the spelling against config.example.toml"))
    return settings, findings


def _fix(message: str) -> str:
    for prefix, fix in FIXES.items():
        if message.startswith(prefix):
            return fix
    return "see that key in config.example.toml"


def _default_of(message: str) -> tuple[str, str] | None:
    """The environment variable and default value that set aside the key a message names."""
    named = re.match(r"\[(\w+)\] (\w+)", message)
    if named is None or named.group(1) not in SECTIONS:
        return None
    section, key = named.groups()
    for spec in fields(SECTIONS[section]):
        if spec.name == key:
            return f"{ENV_PREFIX}{section}_{key}".upper(), str(spec.default)
    return None


@contextmanager
def _warnings() -> Iterator[list[str]]:
    """The loader's warnings (unknown keys), collected instead of logged."""
    warned: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warned.append(record.getMessage().removeprefix("config: "))

    logger = logging.getLogger("bot.config")
    handler, propagate = Collect(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield warned
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def local_findings(settings: Settings) -> list[Finding]:
    """What can be checked without WeChat; each account's lines name it."""
    app, wechat = settings.app, settings.wechat
    found: list[Finding] = []
    if app.secret_key == EXAMPLE_SECRET_KEY or len(app.secret_key) < 16:
        found.append(Finding(False, "[app] secret_key is the example or too short", SECRET_FIX))
    else:
        found.append(Finding(True, "[app] secret_key is set"))
    for account in settings.accounts:
        found += account_findings(settings, account)
    if wechat.accept_plaintext and any(a.safe_mode for a in settings.accounts):
        found.append(PLAINTEXT_WARNING)
    if not settings.development:
        found.append(_public_url(app.public_url))
        found += _server_warnings(settings)
    found += shared_template_findings(settings)
    wecom = settings.wecom
    if any((wecom.corp_id, wecom.agent_id, wecom.secret)) and not settings.wecom_enabled:
        found.append(Finding(False, "[wecom] is half set", "set corp_id, agent_id and secret"))
    found.append(database_finding(settings))
    return found


PLAINTEXT_WARNING = Finding(
    True,
    "警告：[wechat] accept_plaintext = true — 安全模式下仍接受明文消息，未加密的请求可被伪造 "
    "(warning: plaintext messages are accepted although safe mode is on)",
    "set accept_plaintext = false once 公众号后台 → 服务器配置 → 消息加解密方式 is 安全模式",
    warn=True,
)


def _server_warnings(settings: Settings) -> list[Finding]:
    """Settings whose default suits a laptop, not a server (warnings: they may be intended)."""
    found = []
    if settings.app.public_url.startswith("https://") and not settings.web.trusted_proxies:
        found.append(
            Finding(
                True,
                "警告：[web] trusted_proxies = 0 — 经 nginx 访问时所有客户端地址都是代理的地址，"
                "登录限制会波及所有人 (warning: no trusted proxy; behind nginx every client "
                "has the proxy's address)",
                "set [web] trusted_proxies = 1 when nginx (deploy/) stands in front",
                warn=True,
            )
        )
    if not settings.app.database_url.startswith("sqlite"):
        for key, value, folder in (
            ("[webhook] spool_dir", settings.webhook.spool_dir, "spool"),
            ("[media] dir", settings.media.dir, "media"),
        ):
            if not value:
                found.append(
                    Finding(
                        True,
                        f"警告：{key} 未设置，将使用配置文件旁的 {folder}/ 目录 (warning: {key} "
                        "is empty: a folder next to the config file, often read-only)",
                        f'set {key} = "/var/lib/yishiting/{folder}" (deploy/config.toml)',
                        warn=True,
                    )
                )
    return found


def _public_url(url: str) -> Finding:
    if url.startswith("https://"):
        return Finding(True, f"[app] public_url is https ({url})")
    what = "[app] public_url is empty" if not url else f"[app] public_url is not https ({url})"
    return Finding(False, what, FIXES["[app] public_url"] + " (nginx with TLS, see deploy/)")


def database_finding(settings: Settings) -> Finding:
    """Reachable, and at this code's migration."""
    from ..db import alembic_config

    url = make_url(settings.app.database_url)
    init = f"run `yishiting init --config {settings.source or 'PATH'}`"
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and url.database not in (None, "", ":memory:") and not Path(url.database).exists():
        return Finding(False, f"database {url.database} does not exist", init)
    args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    engine = create_engine(url, connect_args=args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                current = set(conn.scalars(text("SELECT version_num FROM alembic_version")))
            except SQLAlchemyError:
                current = set()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        fix = "check [app] database_url and that the database server runs and lets this user in"
        return Finding(False, f"database unreachable: {reason}", fix)
    finally:
        engine.dispose()
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    if not current:
        return Finding(False, "the database has no tables yet", init)
    if current != heads:
        fix = f"{init} (a database newer than the code needs the newer code)"
        return Finding(False, "the database is not at this code's migration", fix)
    return Finding(True, f"database reachable, migrations current ({url.get_backend_name()})")


def menu_findings(path: str) -> list[Finding]:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    found = _menu_findings(raw.get("menu"), "")
    accounts = raw.get("accounts")
    for table in accounts if isinstance(accounts, list) else []:
        if isinstance(table, dict) and "menu" in table:
            found += _menu_findings(table["menu"], f"[[accounts]] {table.get('name')}: ")
    return found


def _menu_findings(raw: object, about: str) -> list[Finding]:
    buttons, problems = read_menu(raw)
    if problems:
        return [Finding(False, about + p, FIXES["[[menu]]"]) for p in problems]
    if raw is None:
        return [Finding(True, f"menu: the default ({len(default_menu())} buttons)")]
    return [Finding(True, f"{about}menu: {len(buttons)} button(s) from [[menu]]")]
