"""公示 by chat: residents object to a published decision (异议 N 理由)."""

from __future__ import annotations

from .router import Router

router = Router("publicity")
