"""Typed SQLAlchemy models and the domain operations on them. Imports SQLAlchemy only."""

from .base import Base, UTCDateTime
from .inbound import InboundMessage, dedupe_key, find_inbound
from .people import Person, Role, set_following, touch_person

__all__ = [
    "Base",
    "InboundMessage",
    "Person",
    "Role",
    "UTCDateTime",
    "dedupe_key",
    "find_inbound",
    "set_following",
    "touch_person",
]
