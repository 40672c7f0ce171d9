"""jieba, loaded once per process at start-up rather than on the first message."""

from __future__ import annotations

import logging

import jieba


def load_segmenter() -> None:
    """Load jieba's dictionary now (~1 s); a no-op once loaded in this process."""
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()


def segmenter_loaded() -> bool:
    return bool(jieba.dt.initialized)
