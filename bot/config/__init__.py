"""Settings: defaults, then the TOML file, then `YISHITING_SECTION_KEY` environment variables.

Everything is validated once, at load time; a bad value raises `ConfigError` naming the key.
Unknown keys (in the file or the environment) are logged as warnings naming the key.

A leaf of bot/: it imports only words/ (and SQLAlchemy's URL parser), so every floor may read
settings. sections.py holds the keys and defaults, settings.py the `Settings` value, load.py
the reading, checks.py the rules, menu.py and templates.py the `[[menu]]` and
`[templates."KIND"]` tables as plain data (bot/menu.py and bot/delivery/ interpret them).
"""

from .accounts import LEGACY_NAME, STREET, Account
from .checks import production_problems, refuse_unsafe_start, validate
from .errors import ConfigError, UnsafeStart
from .load import load_settings
from .sections import (
    CONFIG_ENV,
    ENV_PREFIX,
    EXAMPLE_SECRET_KEY,
    SECTIONS,
    AbuseSettings,
    ApiSettings,
    AppSettings,
    ClassifierSettings,
    DeliberationSettings,
    DeliverySettings,
    HealthSettings,
    MediaSettings,
    MetricsSettings,
    PollSettings,
    PrivacySettings,
    SchedulerSettings,
    TicketSettings,
    WebhookSettings,
    WebSettings,
    WechatSettings,
    WecomSettings,
)
from .settings import Settings
from .templates import parse_templates

__all__ = [
    "LEGACY_NAME",
    "STREET",
    "Account",
    "CONFIG_ENV",
    "ENV_PREFIX",
    "EXAMPLE_SECRET_KEY",
    "SECTIONS",
    "AbuseSettings",
    "AppSettings",
    "ClassifierSettings",
    "ConfigError",
    "DeliverySettings",
    "HealthSettings",
    "MediaSettings",
    "MetricsSettings",
    "ApiSettings",
    "DeliberationSettings",
    "PollSettings",
    "PrivacySettings",
    "SchedulerSettings",
    "Settings",
    "TicketSettings",
    "UnsafeStart",
    "WebSettings",
    "WebhookSettings",
    "WechatSettings",
    "WecomSettings",
    "load_settings",
    "parse_templates",
    "production_problems",
    "refuse_unsafe_start",
    "validate",
]
