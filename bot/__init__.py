"""Yishiting's application: `create_app(settings)` builds everything; importing does nothing.

`create_app` lives in bot/app.py and is loaded on first use, so command-line tools that never
build the web app (`yishiting classify`, `rules …`) do not pay for importing Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app as create_app
    from .config import load_settings as load_settings

__all__ = ["create_app", "load_settings"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "load_settings":
        from .config import load_settings

        return load_settings
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
