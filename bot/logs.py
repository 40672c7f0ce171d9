"""Logging: everything to stderr (stdout is for machine-readable output)."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # APScheduler logs every run of every job at INFO: the 5-second sweep would drown the log.
    # Our own jobs log what they did; its warnings (a missed run, a failed job) still show.
    if root.level > logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
