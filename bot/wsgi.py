"""WSGI entry point: `gunicorn 'bot.wsgi:app'` with the config named by YISHITING_CONFIG."""

from __future__ import annotations

from .app import create_app
from .config import load_settings
from .logs import configure_logging

settings = load_settings()
configure_logging(settings.app.log_level)
app = create_app(settings)
