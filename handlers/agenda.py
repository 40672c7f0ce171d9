"""提议 · 附议 · 议题: a resident proposes, backs and reads agenda items."""

from __future__ import annotations

from .router import Router

router = Router("agenda")
