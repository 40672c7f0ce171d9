"""落实 and 评议 in time: overdue work is warned and escalated; 评议 and the 回头看 are asked."""

from __future__ import annotations
