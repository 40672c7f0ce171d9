"""The ground floor: words and text helpers every other floor shares.

Folding for matching (folding.py), times as people read them (times.py), the names of
ticket statuses and staff actions (status.py) and the custom menu's entries (menu.py).
Imports nothing of the project's own, so models, handlers and every part of bot/ may use it.
"""

from .folding import as_number, clean, fold, meaningful_length, text_key
from .status import ACTION_NAMES, STATUS_NAMES
from .times import parse_time_of_day, when

__all__ = [
    "ACTION_NAMES",
    "STATUS_NAMES",
    "as_number",
    "clean",
    "fold",
    "meaningful_length",
    "parse_time_of_day",
    "text_key",
    "when",
]
