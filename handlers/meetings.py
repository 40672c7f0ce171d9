"""议事会 by chat: invitees answer 参加 M or 请假 M."""

from __future__ import annotations

from .router import Router

router = Router("meetings")
