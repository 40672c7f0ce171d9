"""Folding text before matching: full-width → half-width, lower case, traditional → simplified.

Keywords and messages go through the same folding, so 電梯, ｄｉａｎｔｉ and 电梯 meet.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

# Control and invisible characters (C0 and C1 controls but tab and newline, soft hyphen,
# zero-width spaces and joiners, bidi marks, embeddings, overrides and isolates, BOM).
_INVISIBLE_CHARS = "".join(
    chr(c)
    for lo, hi in (
        (0x00, 0x08),
        (0x0B, 0x1F),
        (0x7F, 0x9F),
        (0xAD, 0xAD),
        (0x061C, 0x061C),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x2028, 0x202E),
        (0x2060, 0x2069),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
    )
    for c in range(lo, hi + 1)
)
_INVISIBLE = re.compile(f"[{re.escape(_INVISIBLE_CHARS)}]")
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str | None]:
    """One character table for all the folding, so folding is a single str.translate (in C).

    Full-width forms → ASCII (ＡＢＣ１２３，→ abc123,), the ideographic space → a space,
    upper → lower case, traditional → simplified characters character by character (from
    zhconv's dictionary; phrase-level differences do not matter for keyword matching), and
    invisible characters deleted. Measured ~4x faster than NFKC + lower + zhconv.convert.
    """
    from zhconv import zhconv

    zhconv.loaddict()
    table: dict[int, str | None] = {
        ord(k): v
        for k, v in zhconv.getdict("zh-hans").items()
        if len(k) == 1 and len(v) == 1 and k != v
    }
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[code] = chr(code - 0xFEE0).lower()
    table[0x3000] = " "
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code).lower()
    for char in _INVISIBLE_CHARS:
        table[ord(char)] = None
    return table


def fold(text: str) -> str:
    """The form both keywords and messages are matched in."""
    return text.translate(_fold_table())


def clean(text: str) -> str:
    """What a person wrote, without control and invisible characters, for storing and display."""
    return _INVISIBLE.sub("", text).strip()


def text_key(text: str) -> str:
    """Equal for two messages that differ only in width, case, script, spaces or punctuation."""
    return hashlib.sha1(_NOT_WORD.sub("", fold(text)).encode("utf-8")).hexdigest()


def as_number(word: str) -> int | None:
    """A ticket or poll number as typed — 12, #12, ＃１２ — or None. Any size: the lookups
    answer "not found" for a number past every id (models/base.py ID_MAX)."""
    folded = fold(word).strip().lstrip("#").strip()
    return int(folded) if folded.isascii() and folded.isdigit() else None


def meaningful_length(text: str) -> int:
    """Characters that carry meaning (no spaces, punctuation or emoji)."""
    return len(_NOT_WORD.sub("", fold(text)))
