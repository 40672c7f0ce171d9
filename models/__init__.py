"""Typed SQLAlchemy models and the domain operations on them. Imports SQLAlchemy only."""

from .base import Base, UTCDateTime
from .inbound import InboundMessage, claim_inbound, dedupe_key, find_inbound, record_reply
from .people import Person, PersonRef, Role, set_following, touch_person

__all__ = [
    "Base",
    "InboundMessage",
    "Person",
    "PersonRef",
    "Role",
    "UTCDateTime",
    "claim_inbound",
    "dedupe_key",
    "find_inbound",
    "record_reply",
    "set_following",
    "touch_person",
]
