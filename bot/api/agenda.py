"""/api/v1 routes: agenda (see the module docstring of bot/api)."""

from __future__ import annotations

from .blueprint import bp, spec  # noqa: F401
