"""Folding text before matching: full-width → half-width, lower case, traditional → simplified.

Keywords and messages go through the same folding, so 電梯, ｄｉａｎｔｉ and 电梯 meet.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

# Control and invisible characters (zero-width spaces and joiners, BOM, bidi marks).
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _to_simplified() -> dict[int, str]:
    """A character table from zhconv's traditional → simplified dictionary.

    Character by character (str.translate, in C) rather than zhconv's phrase matching: it is
    ~4x faster and phrase-level differences do not matter for keyword matching.
    """
    from zhconv import zhconv

    zhconv.loaddict()
    table = zhconv.getdict("zh-hans")
    return {ord(k): v for k, v in table.items() if len(k) == 1 and len(v) == 1 and k != v}


def fold(text: str) -> str:
    """The form both keywords and messages are matched in."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).lower()
    return text.translate(_to_simplified())


def clean(text: str) -> str:
    """What a person wrote, without control and invisible characters, for storing and display."""
    return _INVISIBLE.sub("", text).strip()


def text_key(text: str) -> str:
    """Equal for two messages that differ only in width, case, script, spaces or punctuation."""
    return hashlib.sha1(_NOT_WORD.sub("", fold(text)).encode("utf-8")).hexdigest()


def meaningful_length(text: str) -> int:
    """Characters that carry meaning (no spaces, punctuation or emoji)."""
    return len(_NOT_WORD.sub("", fold(text)))
