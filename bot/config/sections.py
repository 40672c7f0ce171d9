"""Settings: defaults, then the TOML file, then `YISHITING_SECTION_KEY` environment variables.

Everything is validated once, at load time; a bad value raises `ConfigError` naming the key.
Unknown keys (in the file or the environment) are logged as warnings naming the key.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .wechat.mapping import SUBSCRIPTIONS, TEMPLATES, TemplateMap, parse_maps

if TYPE_CHECKING:
    from .menu import Button

log = logging.getLogger(__name__)

ENV_PREFIX = "YISHITING_"
CONFIG_ENV = "YISHITING_CONFIG"  # reserved: names the config file, not a key
EXAMPLE_SECRET_KEY = "change-me"


class ConfigError(ValueError):
    """A setting is missing or has a value we cannot use; the message names the key."""


@dataclass(frozen=True)
class AppSettings:
    database_url: str = "sqlite:///yishiting.db"
    secret_key: str = EXAMPLE_SECRET_KEY
    mode: str = "production"
    public_url: str = ""
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    db_busy_timeout_seconds: float = 5.0


@dataclass(frozen=True)
class WechatSettings:
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = "https://api.weixin.qq.com/"
    # Legacy keyword template messages (first, keyword1…, remark): "kind=TEMPLATE_ID" pairs,
    # comma-separated. WeChat no longer shows first and remark: map typed fields in
    # [templates."KIND"] instead (bot/wechat/mapping.py); check-config says so.
    templates: str = ""
    # A signed request whose timestamp is further than this from our clock is refused (403);
    # the (timestamp, nonce) pairs seen within it are kept, so a signed URL cannot be replayed.
    max_clock_skew_seconds: int = 300
    # With an EncodingAESKey set, plaintext bodies are refused unless this is on (WeChat's
    # "compatible mode", for the switch-over; check-config warns while it is on).
    accept_plaintext: bool = False


@dataclass(frozen=True)
class WecomSettings:
    corp_id: str = ""
    agent_id: str = ""
    secret: str = ""
    api_base_url: str = "https://qyapi.weixin.qq.com/"


@dataclass(frozen=True)
class WebhookSettings:
    max_body_bytes: int = 64 * 1024
    # Where messages wait while the database is down (bot/spool.py); "" = next to the database.
    spool_dir: str = ""


@dataclass(frozen=True)
class WebSettings:
    # Reverse proxies in front of the web server whose X-Forwarded-For/-Proto are trusted
    # (0 = none: `yishiting serve` on its own; deploy/ sets 1 for nginx).
    trusted_proxies: int = 0


@dataclass(frozen=True)
class MediaSettings:
    # Where photos, voice and video attached to tickets are kept once downloaded from WeChat
    # (WeChat deletes its copies after about 3 days). Relative to the config file's folder;
    # "" = a `media` folder next to the SQLite database (next to the config with PostgreSQL).
    dir: str = ""
    # Larger attachments are not downloaded (the ticket keeps the reference and says so).
    max_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class ClassifierSettings:
    threshold: float = 2.0
    margin: float = 1.0
    reload_seconds: float = 2.0


@dataclass(frozen=True)
class TicketSettings:
    min_chars: int = 4
    same_text_minutes: int = 10
    attach_minutes: int = 10
    choice_minutes: int = 30
    # The deadline (hours) of a ticket no topic fits; topics have their own (sla_hours).
    triage_sla_hours: float = 24.0
    # A ticket still without an assignee this many hours after filing goes to the duty
    # supervisor, once, and shows on the dashboard.
    triage_hours: float = 4.0
    warn_before_hours: float = 2.0
    rating_days: float = 3.0
    followup_days: float = 28.0
    ladder: str = "网格员,社区,街道"


@dataclass(frozen=True)
class DeliverySettings:
    poll_seconds: float = 1.0
    batch_size: int = 50
    retry_base_seconds: float = 1.0
    # 1, 2, 4 ... 60 s: 16 tries span at least 8 minutes, so a WeChat outage of 5 minutes
    # (tests/test_faults.py) delays pushes but kills none.
    retry_max_seconds: float = 60.0
    max_attempts: int = 16
    timeout_seconds: float = 5.0
    lease_seconds: float = 60.0
    cs_window_hours: float = 48.0
    cs_budget: int = 5
    serve_workers: int = 1


@dataclass(frozen=True)
class SchedulerSettings:
    sweep_seconds: float = 5.0
    misfire_grace_seconds: int = 600
    housekeeping_at: str = "03:30"
    digest_at: str = "08:00"
    keep_days: int = 30


@dataclass(frozen=True)
class PollSettings:
    remind_before_hours: float = 24.0
    followup_days: float = 30.0


@dataclass(frozen=True)
class HealthSettings:
    # /readyz and `yishiting status` (bot/health.py): pushes due longer than backlog_seconds
    # count as backlog; more than max_backlog of them, or more than max_dead dead rows, fail.
    max_backlog: int = 100
    backlog_seconds: float = 300.0
    max_dead: int = 50
    # The worker's and the scheduler's one-line INFO heartbeat.
    heartbeat_seconds: float = 60.0


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = False  # GET /metrics (Prometheus text); 404 when off


@dataclass(frozen=True)
class PrivacySettings:
    # Closed tickets' texts and inbound messages older than this are redacted (0 = never).
    retain_days: int = 365


@dataclass(frozen=True)
class AbuseSettings:
    # Messages a person may write a minute and a day (0 = no limit); staff and admins are exempt.
    per_minute: int = 20
    per_day: int = 200
    # Open tickets a resident may hold; a near-duplicate of a neighbour's ticket becomes 附议.
    max_open_tickets: int = 5
    support_hours: float = 24.0


@dataclass(frozen=True)
class Settings:
    app: AppSettings = field(default_factory=AppSettings)
    wechat: WechatSettings = field(default_factory=WechatSettings)
    wecom: WecomSettings = field(default_factory=WecomSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    web: WebSettings = field(default_factory=WebSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    tickets: TicketSettings = field(default_factory=TicketSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    polls: PollSettings = field(default_factory=PollSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    abuse: AbuseSettings = field(default_factory=AbuseSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    # `[[menu]]`: the custom menu (bot/menu.py); empty = built from handlers/menu.py.
    menu: tuple[Button, ...] = ()
    # `[templates."KIND"]` and `[subscriptions."KIND"]`: typed template messages and
    # subscription notices per push kind (bot/wechat/mapping.py).
    template_maps: tuple[TemplateMap, ...] = ()
    subscription_maps: tuple[TemplateMap, ...] = ()
    source: str = ""  # the file the settings came from ("" = defaults only)

    @property
    def development(self) -> bool:
        return self.app.mode == "development"

    @property
    def safe_mode(self) -> bool:
        """True when an EncodingAESKey is set: encrypted messages can be decrypted."""
        return bool(self.wechat.encoding_aes_key)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.app.timezone)

    @property
    def ladder(self) -> tuple[str, ...]:
        """The escalation levels' names, level 1 first (`[tickets] ladder`)."""
        return tuple(n.strip() for n in self.tickets.ladder.split(",") if n.strip())

    @property
    def templates(self) -> dict[str, str]:
        """Push kind -> WeChat template id, from `[wechat] templates`."""
        return parse_templates(self.wechat.templates)

    def typed_template(self, kind: str) -> TemplateMap | None:
        """The typed template message for a push kind, if `[templates."KIND"]` maps one."""
        return next((m for m in self.template_maps if m.kind == kind), None)

    def subscription(self, kind: str) -> TemplateMap | None:
        """The subscription notice for a push kind, if `[subscriptions."KIND"]` maps one."""
        return next((m for m in self.subscription_maps if m.kind == kind), None)

    @property
    def console_pushes(self) -> bool:
        """No app secret: pushes go to the console channel (log + simulator)."""
        return not self.wechat.app_secret

    @property
    def wecom_enabled(self) -> bool:
        return bool(self.wecom.corp_id and self.wecom.agent_id and self.wecom.secret)

    def replace(self, **sections: Mapping[str, Any]) -> Settings:
        """A copy with some keys changed, e.g. `replace(app={"mode": "development"})`."""
        changed = {
            name: dataclasses.replace(getattr(self, name), **values)
            for name, values in sections.items()
        }
        return validate(dataclasses.replace(self, **changed))


SECTIONS: dict[str, type] = {
    "app": AppSettings,
    "wechat": WechatSettings,
    "wecom": WecomSettings,
    "webhook": WebhookSettings,
    "web": WebSettings,
    "media": MediaSettings,
    "classifier": ClassifierSettings,
    "tickets": TicketSettings,
    "delivery": DeliverySettings,
    "scheduler": SchedulerSettings,
    "polls": PollSettings,
    "health": HealthSettings,
    "metrics": MetricsSettings,
    "abuse": AbuseSettings,
    "privacy": PrivacySettings,
}


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
    if menu and "menu" in raw:  # imported only then: it reads the handlers' menu entries
        from .menu import parse_menu

        buttons = parse_menu(raw["menu"])
    maps = {name: _maps(name, raw) for name in (TEMPLATES, SUBSCRIPTIONS)}
    settings = Settings(
        **sections,
        menu=buttons,
        template_maps=maps[TEMPLATES],
        subscription_maps=maps[SUBSCRIPTIONS],
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
        if section in ("menu", TEMPLATES, SUBSCRIPTIONS):
            continue  # [[menu]]: bot/menu.py reads it; the typed templates: _maps
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
    if wechat.encoding_aes_key:
        _check_aes_key(wechat.encoding_aes_key)
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
    for key in ("threshold", "margin", "reload_seconds"):
        if getattr(settings.classifier, key) < 0:
            raise ConfigError(f"[classifier] {key}: must not be negative")
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
    _check_delivery(settings.delivery)
    _check_health(settings.health)
    if settings.polls.remind_before_hours < 0 or settings.polls.followup_days <= 0:
        raise ConfigError("[polls] remind_before_hours >= 0 and followup_days > 0, please")
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
        from .schedule.jobs import parse_time_of_day

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


def parse_templates(text: str) -> dict[str, str]:
    """`"notice=ID1, ticket.assigned=ID2"` -> {"notice": "ID1", "ticket.assigned": "ID2"}."""
    templates: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        kind, sep, template_id = (piece.strip() for piece in part.partition("="))
        if not sep or not kind or not template_id:
            raise ConfigError(f"[wechat] templates: expected kind=TEMPLATE_ID pairs, got {part!r}")
        templates[kind] = template_id
    return templates


def _check_aes_key(key: str) -> None:
    where = "[wechat] encoding_aes_key"
    if len(key) != 43:
        raise ConfigError(f"{where}: must be 43 characters (got {len(key)}); empty = plain mode")
    try:
        decoded = base64.b64decode(key + "=", validate=True)
    except binascii.Error:
        raise ConfigError(f"{where}: not base64 (letters, digits, + and / only)") from None
    if len(decoded) != 32:
        raise ConfigError(f"{where}: does not decode to a 32-byte AES key")


class UnsafeStart(ConfigError):
    """Production mode with a setting that must not go live (the example secret, no token)."""


def production_problems(settings: Settings) -> list[str]:
    """What must not go live: the example secret key, an empty WeChat token ([] in development).
    `yishiting check-config` explains each with its fix."""
    if settings.development:
        return []
    problems = []
    if settings.app.secret_key == EXAMPLE_SECRET_KEY:
        problems.append(f'[app] secret_key is the example "{EXAMPLE_SECRET_KEY}"')
    if not settings.wechat.token:
        problems.append("[wechat] token is empty")
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
