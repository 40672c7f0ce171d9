"""The per-app state (`app.extensions["yishiting"]`): never module globals."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from .classify import RuleBook
from .config import Settings
from .conversation import Conversation
from .db import Database
from .wechat.protocol import SafeMode


@dataclass
class Yishiting:
    settings: Settings
    db: Database
    conversation: Conversation
    rulebook: RuleBook
    # Per account name: the safe-mode crypto of each account with an EncodingAESKey.
    safe_modes: dict[str, SafeMode]


def yishiting(app: Flask) -> Yishiting:
    ext: Yishiting = app.extensions["yishiting"]
    return ext
