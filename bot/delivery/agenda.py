"""What the 议 cycle's pushes say (议题, 议事会, 公示, 落实, 评议), in Simplified Chinese.

One section per stage, each ending in its table of kinds and renderers; `RENDERERS` joins
them and bot/delivery/templates.py adds them to its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models.pushes import PushKind

from .rendered import Rendered

Renderer = Callable[[dict[str, Any]], Rendered]

# -- 议题: 提议 · 附议 · 立项 ------------------------------------------------------------------

_PROPOSALS: dict[PushKind, Renderer] = {}

# -- 议事会 -------------------------------------------------------------------------------------

_MEETINGS: dict[PushKind, Renderer] = {}

# -- 表决 · 公示 · 异议 -------------------------------------------------------------------------

_PUBLICITY: dict[PushKind, Renderer] = {}

# -- 落实 · 评议 · 回头看 -----------------------------------------------------------------------

_CARRYING: dict[PushKind, Renderer] = {}


RENDERERS: dict[str, Renderer] = {
    kind.name: renderer
    for table in (_PROPOSALS, _MEETINGS, _PUBLICITY, _CARRYING)
    for kind, renderer in table.items()
}
