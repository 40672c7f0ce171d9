"""The rules every setting keeps, checked once at load; and what must not go live."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from words.times import parse_time_of_day

from .accounts import ACCOUNT_KEYS, check_account, check_aes_key
from .errors import ConfigError, UnsafeStart
from .sections import EXAMPLE_SECRET_KEY, DeliverySettings, HealthSettings
from .templates import parse_templates

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger(__name__)


def validate(settings: Settings) -> Settings:
    """Check every value once; raise ConfigError naming the first bad key."""
    app, wechat = settings.app, settings.wechat
    if app.mode not in ("production", "development"):
        raise ConfigError(f'[app] mode: must be "production" or "development", got {app.mode!r}')
    try:
        make_url(app.database_url)
    except ArgumentError:
        raise ConfigError(f"[app] database_url: not a database URL: {app.database_url!r}") from None
    try:
        ZoneInfo(app.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[app] timezone: unknown time zone {app.timezone!r}") from None
    if app.public_url and not app.public_url.startswith(("http://", "https://")):
        raise ConfigError(f"[app] public_url: must start with https:// (got {app.public_url!r})")
    if logging.getLevelName(app.log_level.upper()) not in (10, 20, 30, 40, 50):
        raise ConfigError(f"[app] log_level: unknown level {app.log_level!r}")
    if not app.secret_key:
        raise ConfigError("[app] secret_key: must not be empty")
    if app.db_busy_timeout_seconds <= 0:
        raise ConfigError("[app] db_busy_timeout_seconds: must be positive")
    if not app.community_name.strip() or len(app.community_name.strip()) > 32:
        raise ConfigError("[app] community_name: give the community a name of 1-32 characters")
    if wechat.encoding_aes_key:
        check_aes_key(wechat.encoding_aes_key)
    if not wechat.api_base_url.startswith(("http://", "https://")):
        raise ConfigError(f"[wechat] api_base_url: not an http(s) URL: {wechat.api_base_url!r}")
    if settings.webhook.max_body_bytes < 1024:
        raise ConfigError("[webhook] max_body_bytes: must be at least 1024")
    if wechat.max_clock_skew_seconds < 1:
        raise ConfigError("[wechat] max_clock_skew_seconds: must be at least 1")
    if not 0 <= settings.web.trusted_proxies <= 5:
        raise ConfigError("[web] trusted_proxies: the number of proxies in front, 0 to 5")
    if settings.media.max_bytes < 1:
        raise ConfigError("[media] max_bytes: must be positive")
    for key in ("threshold", "margin", "reload_seconds", "retrain_min_new"):
        if getattr(settings.classifier, key) < 0:
            raise ConfigError(f"[classifier] {key}: must not be negative")
    for key in ("model_threshold", "model_margin", "model_override"):
        if not 0 <= getattr(settings.classifier, key) <= 1:
            raise ConfigError(f"[classifier] {key}: a probability, from 0 to 1")
    if not settings.wecom.api_base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"[wecom] api_base_url: not an http(s) URL: {settings.wecom.api_base_url!r}"
        )
    both = set(parse_templates(wechat.templates)) & {m.kind for m in settings.template_maps}
    if both:
        raise ConfigError(
            f'[wechat] templates: {", ".join(sorted(both))} also has a [templates."KIND"] '
            "table: keep the typed one and drop it from [wechat] templates"
        )
    _check_accounts(settings)
    _check_delivery(settings.delivery)
    _check_health(settings.health)
    if settings.polls.remind_before_hours < 0 or settings.polls.followup_days <= 0:
        raise ConfigError("[polls] remind_before_hours >= 0 and followup_days > 0, please")
    _check_deliberation(settings)
    _check_api(settings)
    if settings.scheduler.sweep_seconds <= 0:
        raise ConfigError("[scheduler] sweep_seconds: must be positive")
    for key in ("per_minute", "per_day", "max_open_tickets"):
        if getattr(settings.abuse, key) < 0:
            raise ConfigError(f"[abuse] {key}: must not be negative (0 = no limit)")
    if settings.abuse.support_hours < 0:
        raise ConfigError("[abuse] support_hours: must not be negative (0 = no 附议)")
    if settings.privacy.retain_days < 0:
        raise ConfigError("[privacy] retain_days: must not be negative (0 = keep forever)")
    try:
        parse_time_of_day(settings.scheduler.housekeeping_at)
    except ValueError as exc:
        raise ConfigError(f"[scheduler] housekeeping_at: {exc}") from None
    try:
        parse_time_of_day(settings.scheduler.digest_at)
    except ValueError as exc:
        raise ConfigError(f"[scheduler] digest_at: {exc}") from None
    if settings.scheduler.keep_days < 1:
        raise ConfigError("[scheduler] keep_days: must be at least 1")
    if settings.scheduler.misfire_grace_seconds < 0:
        raise ConfigError("[scheduler] misfire_grace_seconds: must not be negative")
    for key in ("min_chars", "same_text_minutes", "attach_minutes", "choice_minutes"):
        if getattr(settings.tickets, key) < 0:
            raise ConfigError(f"[tickets] {key}: must not be negative")
    for key in ("triage_sla_hours", "triage_hours", "rating_days", "followup_days"):
        if getattr(settings.tickets, key) <= 0:
            raise ConfigError(f"[tickets] {key}: must be positive")
    if settings.tickets.warn_before_hours < 0:
        raise ConfigError("[tickets] warn_before_hours: must not be negative")
    if not 1 <= len(settings.ladder) <= 3:
        raise ConfigError(
            "[tickets] ladder: one to three level names, comma-separated "
            '(default "网格员,社区,街道")'
        )
    return settings


def _check_accounts(settings: Settings) -> None:
    """With [[accounts]], [wechat] keeps only the deployment-wide keys; each account's own
    values were checked as it was read (bot/config/accounts.py)."""
    if not settings.configured_accounts:
        return
    for key in ACCOUNT_KEYS:
        if getattr(settings.wechat, key):
            raise ConfigError(
                f"[wechat] {key}: with [[accounts]] every account has its own {key}; move it "
                "into an [[accounts]] entry (or drop [[accounts]] for one account)"
            )
    for account in settings.configured_accounts:
        check_account(account)


def _check_delivery(delivery: DeliverySettings) -> None:
    for key in ("poll_seconds", "retry_base_seconds", "timeout_seconds", "lease_seconds"):
        if getattr(delivery, key) <= 0:
            raise ConfigError(f"[delivery] {key}: must be positive")
    if delivery.retry_max_seconds < delivery.retry_base_seconds:
        raise ConfigError("[delivery] retry_max_seconds: must be at least retry_base_seconds")
    for key in ("batch_size", "max_attempts", "serve_workers"):
        if getattr(delivery, key) < 1:
            raise ConfigError(f"[delivery] {key}: must be at least 1")
    if delivery.serve_workers > 16:
        raise ConfigError("[delivery] serve_workers: at most 16")
    if delivery.cs_window_hours < 0 or delivery.cs_budget < 0:
        raise ConfigError("[delivery] cs_window_hours and cs_budget: must not be negative")
    if delivery.lease_seconds < 2 * delivery.timeout_seconds:
        raise ConfigError("[delivery] lease_seconds: must be at least twice timeout_seconds")


def _check_health(health: HealthSettings) -> None:
    for key in ("max_backlog", "max_dead", "backlog_seconds"):
        if getattr(health, key) < 0:
            raise ConfigError(f"[health] {key}: must not be negative")
    if health.heartbeat_seconds <= 0:
        raise ConfigError("[health] heartbeat_seconds: must be positive")


def production_problems(settings: Settings) -> list[str]:
    """What must not go live: the example secret key, an empty WeChat token ([] in development).
    `yishiting check-config` explains each with its fix."""
    if settings.development:
        return []
    problems = []
    if settings.app.secret_key == EXAMPLE_SECRET_KEY:
        problems.append(f'[app] secret_key is the example "{EXAMPLE_SECRET_KEY}"')
    for account in settings.accounts:
        if not account.token:
            problems.append(f"{account.label} token is empty")
    return problems


def refuse_unsafe_start(settings: Settings, *, web: bool = True) -> None:
    """Raise UnsafeStart (one line: the problems and where to read more) in production mode
    with the example secret key or an empty token; for a web process, log a WARNING when
    console cookies would travel without HTTPS."""
    problems = production_problems(settings)
    if problems:
        config = settings.source or "PATH"
        raise UnsafeStart(
            f"refusing to start in production mode: {'; '.join(problems)} "
            f"(run `yishiting check-config --config {config}` for the fix)"
        )
    if web and not settings.development and not settings.app.public_url.startswith("https://"):
        log.warning(
            "[app] public_url is not https (%r): console session cookies would travel "
            "unencrypted; see `yishiting check-config`",
            settings.app.public_url,
        )


def _check_api(settings: Settings) -> None:
    a = settings.api
    for key in ("rate_limit_per_minute", "webhook_max_attempts"):
        if getattr(a, key) < 1:
            raise ConfigError(f"[api] {key}: 1 or more, please")
    for key in ("webhook_timeout_seconds", "webhook_retry_max_seconds"):
        if getattr(a, key) <= 0:
            raise ConfigError(f"[api] {key}: must be positive")
    if a.audit_days < 0:
        raise ConfigError("[api] audit_days: 0 (for ever) or more, please")


def _check_deliberation(settings: Settings) -> None:
    d = settings.deliberation
    if d.backing_unit not in ("household", "person"):
        raise ConfigError(
            f"[deliberation] backing_unit: household or person, not {d.backing_unit!r}"
        )
    if d.backing_threshold < 0 or (d.backing_threshold > 1 and d.backing_threshold % 1):
        raise ConfigError(
            "[deliberation] backing_threshold: a whole number of households (or people), or "
            f"a share between 0 and 1 of the households in scope, not {d.backing_threshold}"
        )
    positive = ("publicity_days", "escalate_after_hours", "review_days")
    for key in positive:
        if getattr(d, key) <= 0:
            raise ConfigError(f"[deliberation] {key}: must be positive")
    if d.meeting_reminder_hours < 0:
        raise ConfigError("[deliberation] meeting_reminder_hours: 0 or more, please")
