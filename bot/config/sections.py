"""The config's sections, one frozen dataclass each: their keys, types and defaults.

A key's type is its default's (bot/config/load.py coerces file and environment values to it);
the rules a value must keep are in bot/config/checks.py.
"""

from __future__ import annotations

from dataclasses import dataclass

ENV_PREFIX = "YISHITING_"
CONFIG_ENV = "YISHITING_CONFIG"  # reserved: names the config file, not a key
EXAMPLE_SECRET_KEY = "change-me"


@dataclass(frozen=True)
class AppSettings:
    database_url: str = "sqlite:///yishiting.db"
    secret_key: str = EXAMPLE_SECRET_KEY
    mode: str = "production"
    public_url: str = ""
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    db_busy_timeout_seconds: float = 5.0
    # The first community's name (社区): what a single-community deployment is called, and
    # where an upgraded database's places, people and tickets land (models/communities.py).
    community_name: str = "本社区"


@dataclass(frozen=True)
class WechatSettings:
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = "https://api.weixin.qq.com/"
    # Legacy keyword template messages (first, keyword1…, remark): "kind=TEMPLATE_ID" pairs,
    # comma-separated. WeChat no longer shows first and remark: map typed fields in
    # [templates."KIND"] instead (bot/config/templates.py); check-config says so.
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
    # The learned model (bot/classify/model.py, engine.py): when the rules are unsure, its
    # topic wins when its probability is at least model_threshold and beats the runner-up's
    # by model_margin (otherwise the resident is asked, offered the likeliest topics first);
    # when the rules are sure, it overrules them only when its topic reaches model_override
    # and theirs is less than half as likely.
    model_threshold: float = 0.3
    model_margin: float = 0.05
    model_override: float = 0.5
    # Retrain nightly (at [scheduler] housekeeping_at) once this many tickets were confirmed
    # since the model in use was trained; 0 turns nightly training off.
    retrain_min_new: int = 20


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
class DeliberationSettings:
    """议 (models/agenda.py, models/meetings.py): backing, 公示, 落实 and 评议's numbers."""

    # 附议 counts one backing per household (户) or per person.
    backing_unit: str = "household"
    # When the community's admins are told a proposal has enough backing: a count of units
    # (>= 1), or a share of the households in scope (0 < x < 1, e.g. 0.05); 0 = never.
    backing_threshold: float = 10.0
    publicity_days: float = 5.0  # 公示 period when `agenda publish` names no --days
    meeting_reminder_hours: float = 24.0  # those who said 参加 are reminded this long before
    # 落实 past its due date: the owner is warned at once; this many hours later it goes up
    # one level of the ladder (community supervisor, then the street), as tickets do.
    escalate_after_hours: float = 48.0
    review_days: float = 30.0  # 回头看: days after 完成 that residents are asked if it held


@dataclass(frozen=True)
class ApiSettings:
    """The open API (bot/api) and its webhooks (models/api)."""

    # Requests one key may make a minute (every process together); more get 429.
    rate_limit_per_minute: int = 600
    # A webhook delivery: how long the platform has to answer, how many tries before the
    # delivery is dead (shown in the console's 待发消息, `outbox retry` sends it again), and
    # the longest wait between tries (doubling from [delivery] retry_base_seconds).
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 20
    webhook_retry_max_seconds: float = 600.0
    # Days the audit of API requests is kept (0 = for ever).
    audit_days: int = 90


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
    "deliberation": DeliberationSettings,
    "api": ApiSettings,
    "health": HealthSettings,
    "metrics": MetricsSettings,
    "abuse": AbuseSettings,
    "privacy": PrivacySettings,
}
