"""Typed SQLAlchemy models and the domain operations on them. Imports SQLAlchemy only."""

from .base import Base, UTCDateTime
from .counters import Counter
from .inbound import InboundMessage, claim_inbound, dedupe_key, find_inbound, record_reply
from .people import Person, PersonRef, Role, set_following, touch_person
from .rules import EXCLUDE, INCLUDE, KINDS, Classification, RuleSpec, TopicSpec
from .states import ConversationState, drop_state, pending_states, push_state
from .tickets import (
    Attachment,
    Ticket,
    attach,
    confirmed_tickets,
    latest_ticket,
    open_ticket,
    open_tickets_of,
    recent_same_text,
    set_topic,
    ticket_by_number,
)
from .topics import (
    Change,
    KeywordRule,
    RuleAudit,
    Topic,
    enabled_topics,
    load_specs,
    plan_sync,
    sync_topics,
    topic_by_name,
)

__all__ = [
    "EXCLUDE",
    "INCLUDE",
    "KINDS",
    "Attachment",
    "Base",
    "Change",
    "Classification",
    "ConversationState",
    "Counter",
    "InboundMessage",
    "KeywordRule",
    "Person",
    "PersonRef",
    "Role",
    "RuleAudit",
    "RuleSpec",
    "Ticket",
    "Topic",
    "TopicSpec",
    "UTCDateTime",
    "attach",
    "claim_inbound",
    "confirmed_tickets",
    "dedupe_key",
    "drop_state",
    "enabled_topics",
    "find_inbound",
    "latest_ticket",
    "load_specs",
    "open_ticket",
    "open_tickets_of",
    "pending_states",
    "plan_sync",
    "push_state",
    "recent_same_text",
    "record_reply",
    "set_following",
    "set_topic",
    "sync_topics",
    "ticket_by_number",
    "topic_by_name",
    "touch_person",
]
