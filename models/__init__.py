"""Typed SQLAlchemy models and the domain operations on them. Imports SQLAlchemy only."""

from .accounts import ConsoleAccount, ConsoleRole, LoginFailure
from .agenda import AgendaBacking, AgendaEvent, AgendaItem, AgendaObjection, AgendaRating
from .announcements import Announced, Announcement, announce
from .api.audit import ApiRequest
from .api.keys import ApiKey
from .api.orders import ApiIdempotency
from .api.webhooks import WebhookSubscription
from .base import Base, UTCDateTime
from .communities import Community, Scope
from .counters import Counter
from .flood import TicketSupporter
from .inbound import InboundMessage, claim_inbound, dedupe_key, find_inbound, record_reply
from .jobs import JobRun
from .landmarks import Landmark
from .learned import ClassifierModel
from .meetings import Meeting, MeetingAgenda, MeetingInvite, Representative
from .outbox import OutboxMessage, Push, enqueue
from .people import Person, PersonRef, Role, set_following, touch_person
from .places import Binding, Building, Grid, Household
from .polls import Ballot, Poll
from .privacy import PrivacyAudit
from .rules import EXCLUDE, INCLUDE, KINDS, Classification, RuleSpec, TopicSpec
from .seen import SeenRequest
from .staff import StaffCode, StaffGrid, StaffTopic
from .states import ConversationState, drop_state, pending_states, push_state
from .subscriptions import Subscription
from .tickets import (
    Attachment,
    Filed,
    Ticket,
    TicketEvent,
    attach,
    confirmed_tickets,
    latest_ticket,
    open_tickets_of,
    same_text_ticket,
    set_topic,
    ticket_by_number,
)
from .tokens import AccessToken
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
    "ApiIdempotency",
    "ApiKey",
    "ApiRequest",
    "WebhookSubscription",
    "AgendaBacking",
    "AgendaEvent",
    "AgendaItem",
    "AgendaObjection",
    "AgendaRating",
    "Meeting",
    "MeetingAgenda",
    "MeetingInvite",
    "Representative",
    "Community",
    "Scope",
    "ConsoleAccount",
    "ConsoleRole",
    "LoginFailure",
    "Ballot",
    "Poll",
    "PrivacyAudit",
    "Binding",
    "Building",
    "Grid",
    "Household",
    "StaffCode",
    "StaffGrid",
    "StaffTopic",
    "Subscription",
    "TicketEvent",
    "TicketSupporter",
    "AccessToken",
    "Announced",
    "Announcement",
    "JobRun",
    "Landmark",
    "ClassifierModel",
    "OutboxMessage",
    "Push",
    "announce",
    "enqueue",
    "EXCLUDE",
    "INCLUDE",
    "KINDS",
    "Attachment",
    "Base",
    "Change",
    "Classification",
    "ConversationState",
    "Counter",
    "Filed",
    "InboundMessage",
    "KeywordRule",
    "Person",
    "PersonRef",
    "Role",
    "RuleAudit",
    "RuleSpec",
    "SeenRequest",
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
    "open_tickets_of",
    "pending_states",
    "plan_sync",
    "push_state",
    "same_text_ticket",
    "record_reply",
    "set_following",
    "set_topic",
    "sync_topics",
    "ticket_by_number",
    "topic_by_name",
    "touch_person",
]
