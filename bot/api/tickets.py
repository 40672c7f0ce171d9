"""/api/v1 routes: tickets (see the module docstring of bot/api)."""

from __future__ import annotations

from .blueprint import bp, spec  # noqa: F401
