"""落实 and 评议 by chat: the owner reports 进展 and 完成; residents rate and answer the 回头看."""

from __future__ import annotations

from .router import Router

router = Router("carrying")
