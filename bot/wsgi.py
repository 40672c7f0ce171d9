"""WSGI entry point: `gunicorn 'bot.wsgi:app'` with the config named by YISHITING_CONFIG."""

from __future__ import annotations

import logging
import sys

from .app import create_app
from .config import UnsafeStart, load_settings
from .db import SchemaTooNew
from .logs import configure_logging

settings = load_settings()
configure_logging(settings.app.log_level)
try:
    app = create_app(settings)
    app.extensions["yishiting"].db.check_schema()
except UnsafeStart as exc:
    # One clear line in the journal instead of a traceback; gunicorn then fails to boot.
    logging.getLogger(__name__).critical("%s", exc)
    sys.exit(1)
except SchemaTooNew as exc:
    logging.getLogger(__name__).critical("refusing to start: %s", exc)
    sys.exit(1)
