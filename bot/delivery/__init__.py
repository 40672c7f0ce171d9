"""Delivery: the outbox worker, the push texts, and the channels that carry them."""

from .templates import Rendered, UnknownKind, render
from .worker import Worker

__all__ = ["Rendered", "UnknownKind", "Worker", "render"]
