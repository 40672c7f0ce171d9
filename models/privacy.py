"""A resident's rights under PIPL (个人信息保护法): erasure, and retention of message texts.

Erasure keeps every figure the committee reports (decisions, in the order `erase` applies them):
- the person row stays, anonymised: the openid becomes "erased:<random>", name, WeCom id and
  times of the last message go, `following` is off (no pushes, no poll notices). A later
  message from the same WeChat user starts a new, unrelated person;
- tickets stay as rows (status, topic, grid, times, rating, on-time: models/kpi.py reads only
  these), their text, place, outcome and every timeline note are replaced by ERASED_TEXT;
  attachments (pictures, voice, video, locations) are deleted, and the caller deletes the
  downloaded files `Erased.files` names once the erasure is committed (models/media.py);
- inbound messages keep kind and time; content, reply and error go, and the openid (also in
  an event's dedupe key) is replaced;
- an approved binding stays without its phone number, so a poll's eligible households and
  residents do not change; a pending or rejected binding is deleted;
- ballots stay (poll tallies count choices per ballot); a person-unit key "p<id>" becomes
  "x<ballot id>" (the voter cannot vote again under this openid); a household's key stays —
  it is the household's vote, and another member may still replace it;
- 议事会 answers stay (the meeting's counts), a 请假 reason is replaced by ERASED_TEXT, and
  the person is no longer a representative (议事代表);
- pushes to the person and their notice subscriptions (订阅通知) are deleted; pushes to
  staff about the person's tickets lose the text and phone they quote; pending conversation
  states are deleted; a linked console account is unlinked; an announcement addressed to the
  openid names the placeholder instead;
- their part in the 议 cycle (proposals, backing, RSVPs, objections, ratings): privacy_agenda.py.
Staff and admins are refused: `yishiting staff remove` first hands their work over.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, Text, delete, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .accounts import ConsoleAccount
from .announcements import Announcement
from .base import Base, UTCDateTime
from .inbound import InboundMessage
from .media import files_of
from .meeting_ops import forget_answers
from .outbox import OutboxMessage
from .people import Person, Role
from .places import APPROVED, Binding
from .polls import Ballot
from .privacy_agenda import erase_agenda
from .states import ConversationState
from .subscriptions import Subscription
from .tickets import Attachment, Ticket, TicketEvent

# What residents and staff read where a text used to be (kept in one place).
ERASED_TEXT = "（已应居民要求删除）"
EXPIRED_TEXT = "（已超过保存期限，内容已删除）"
FINAL_STATUSES = ("closed", "rejected")

# What an erased person's openid becomes the start of (the rest is random).
ERASED_PREFIX = "erased:"


class PrivacyAudit(Base):
    """Who exported or erased whose data, when, and how many rows: never the content."""

    __tablename__ = "privacy_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(16))  # export, erase, retention
    actor: Mapped[str] = mapped_column(String(64))  # the OS user, --actor, or "scheduler"
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The person's row id (not the openid: an erased person's openid is gone for good).
    person_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    counts: Mapped[str] = mapped_column(Text)  # JSON: table -> rows


class PrivacyError(ValueError):
    """An export or erasure that cannot be done; the message says why."""


def audit(
    db: Session, action: str, actor: str, now: datetime, person_id: int | None, counts: Any
) -> None:
    db.add(
        PrivacyAudit(
            action=action,
            actor=actor[:64],
            at=now,
            person_id=person_id,
            counts=json.dumps(counts, ensure_ascii=False, sort_keys=True),
        )
    )


def person_by_openid(db: Session, openid: str) -> Person | None:
    return db.scalars(select(Person).where(Person.openid == openid)).one_or_none()


@dataclass
class Erased:
    openid: str  # the placeholder that replaced the openid
    counts: dict[str, int] = field(default_factory=dict)
    # Downloaded media of the deleted attachments: delete them after the commit.
    files: list[str] = field(default_factory=list)


def _rows(result: Any) -> int:
    return int(result.rowcount or 0)


def erase_person(db: Session, person: Person, actor: str, now: datetime) -> Erased:
    """Delete or anonymise everything held about `person` (see the module's decisions)."""
    if person.role > Role.RESIDENT:
        raise PrivacyError(
            f"{person.openid} is {person.role.name.lower()}: hand their work over first with "
            "`yishiting staff remove OPENID --to OTHER`"
        )
    old_openid, erased = person.openid, Erased(ERASED_PREFIX + secrets.token_hex(8))
    ticket_ids = list(db.scalars(select(Ticket.id).where(Ticket.person_id == person.id)))
    erased.files = files_of(db.connection(), ticket_ids) if ticket_ids else []
    erased.counts.update(_erase_tickets(db, ticket_ids))
    erased.counts["media_files"] = len(erased.files)
    erased.counts["inbound_messages"] = _erase_inbound(db, person.id, old_openid, erased.openid)
    erased.counts["phones_on_tickets_filed_for_them"] = _forget_phone(db, person.id)
    erased.counts.update(_erase_links(db, person.id))
    erased.counts.update(erase_agenda(db, person.id, ERASED_TEXT))
    erased.counts.update(forget_answers(db, person.id, ERASED_TEXT))  # 议事会: 请假 reasons
    erased.counts["pushes"] = _rows(
        db.execute(delete(OutboxMessage).where(OutboxMessage.person_id == person.id))
    )
    erased.counts["pushes_to_staff_redacted"] = _redact_staff_pushes(db, set(ticket_ids))
    erased.counts["subscriptions"] = _rows(
        db.execute(delete(Subscription).where(Subscription.person_id == person.id))
    )
    erased.counts["announcements"] = _rows(
        db.execute(
            update(Announcement)
            .where(Announcement.audience == f"openid:{old_openid}")
            .values(audience=f"openid:{erased.openid}")
        )
    )
    person.openid, person.name, person.wecom_user_id = erased.openid, None, None
    person.following, person.last_message_at, person.state_expires_at = False, None, None
    person.held_pushes = 0
    audit(db, "erase", actor, now, person.id, erased.counts)
    db.flush()
    return erased


def _erase_tickets(db: Session, ticket_ids: list[int]) -> dict[str, int]:
    if not ticket_ids:
        return {"tickets": 0, "ticket_notes": 0, "attachments": 0}
    mine = Ticket.id.in_(ticket_ids)
    tickets = db.execute(
        update(Ticket)
        .where(mine)
        .values(text=ERASED_TEXT, text_key="erased", place=None, outcome=None, phone=None)
        .execution_options(synchronize_session=False)
    )
    notes = db.execute(
        update(TicketEvent)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.note.is_not(None))
        .values(note=ERASED_TEXT)
        .execution_options(synchronize_session=False)
    )
    attachments = db.execute(delete(Attachment).where(Attachment.ticket_id.in_(ticket_ids)))
    db.expire_all()
    return {
        "tickets": _rows(tickets),
        "ticket_notes": _rows(notes),
        "attachments": _rows(attachments),
    }


def _forget_phone(db: Session, person_id: int) -> int:
    """Tickets staff filed for someone unknown with this person's bound phone lose the phone.

    Only the phone: the text may be a family member's request (a shared phone), and the
    ticket stays counted in the KPIs. Runs before the binding loses its phone (_erase_links).
    """
    binding = db.scalars(select(Binding).where(Binding.person_id == person_id)).one_or_none()
    if binding is None or not binding.phone:
        return 0
    return _rows(
        db.execute(
            update(Ticket)
            .where(Ticket.phone == binding.phone, Ticket.person_id.is_(None))
            .values(phone=None)
            .execution_options(synchronize_session=False)
        )
    )


def _erase_inbound(db: Session, person_id: int, old_openid: str, new_openid: str) -> int:
    messages = db.scalars(
        select(InboundMessage).where(
            or_(InboundMessage.person_id == person_id, InboundMessage.openid == old_openid)
        )
    ).all()
    for message in messages:
        message.content, message.reply, message.error = None, None, None
        message.openid = new_openid
        if old_openid in message.dedupe_key:  # an event's key: "evt:<openid>:<time>:<event>"
            message.dedupe_key = f"erased:{message.id}"
    return len(messages)


def _erase_links(db: Session, person_id: int) -> dict[str, int]:
    """Binding, ballots, conversation states, console account."""
    counts = {"bindings_deleted": 0, "bindings_kept_without_phone": 0}
    binding = db.scalars(select(Binding).where(Binding.person_id == person_id)).one_or_none()
    if binding is not None and binding.status == APPROVED:
        binding.phone = None
        counts["bindings_kept_without_phone"] = 1
    elif binding is not None:
        db.delete(binding)
        counts["bindings_deleted"] = 1
    ballots = db.scalars(select(Ballot).where(Ballot.voter_id == person_id)).all()
    for ballot in ballots:
        if ballot.unit_key == f"p{person_id}":
            ballot.unit_key = f"x{ballot.id}"
    counts["ballots"] = len(ballots)
    counts["conversation_states"] = _rows(
        db.execute(delete(ConversationState).where(ConversationState.person_id == person_id))
    )
    counts["console_accounts_unlinked"] = _rows(
        db.execute(
            update(ConsoleAccount)
            .where(ConsoleAccount.person_id == person_id)
            .values(person_id=None)
            .execution_options(synchronize_session=False)
        )
    )
    return counts


def _redact_staff_pushes(db: Session, ticket_ids: set[int]) -> int:
    """Pushes to staff quote the resident's text and (masked) phone: both go."""
    if not ticket_ids:
        return 0
    redacted = 0
    for push in db.scalars(select(OutboxMessage).where(OutboxMessage.kind.startswith("ticket."))):
        payload = dict(push.payload or {})
        if payload.get("ticket") in ticket_ids and ("text" in payload or "phone" in payload):
            if "text" in payload:
                payload["text"] = ERASED_TEXT
            payload.pop("phone", None)
            push.payload = payload
            redacted += 1
    return redacted


def redact_expired(db: Session, now: datetime, retain_days: int) -> dict[str, int]:
    """Retention: the texts of tickets closed (or rejected) more than `retain_days` ago, their
    timeline notes, and inbound messages' content of that age become EXPIRED_TEXT / NULL.
    Idempotent: what is already redacted is not counted again. 0 days = keep forever."""
    if retain_days <= 0:
        return {"tickets": 0, "ticket_notes": 0, "inbound_messages": 0}
    cutoff = now - timedelta(days=retain_days)
    expired = _expired_tickets(cutoff)
    notes = db.execute(
        update(TicketEvent)
        .where(
            TicketEvent.ticket_id.in_(expired),
            TicketEvent.note.is_not(None),
            TicketEvent.note.not_in((EXPIRED_TEXT, ERASED_TEXT)),
        )
        .values(note=EXPIRED_TEXT)
        .execution_options(synchronize_session=False)
    )
    tickets = db.execute(
        update(Ticket)
        .where(Ticket.id.in_(expired), Ticket.text.not_in((EXPIRED_TEXT, ERASED_TEXT)))
        .values(text=EXPIRED_TEXT, text_key="expired")
        .execution_options(synchronize_session=False)
    )
    inbound = db.execute(
        update(InboundMessage)
        .where(
            InboundMessage.received_at < cutoff,
            or_(InboundMessage.content.is_not(None), InboundMessage.reply.is_not(None)),
        )
        .values(content=None, reply=None)
        .execution_options(synchronize_session=False)
    )
    return {
        "tickets": _rows(tickets),
        "ticket_notes": _rows(notes),
        "inbound_messages": _rows(inbound),
    }


def _expired_tickets(cutoff: datetime) -> Any:
    return select(Ticket.id).where(
        Ticket.status.in_(FINAL_STATUSES),
        func.coalesce(Ticket.closed_at, Ticket.updated_at) < cutoff,
    )


def drop_expired_attachments(db: Session, now: datetime, retain_days: int) -> list[str]:
    """Retention for what residents attached: the attachments (photos, voice, video,
    locations) of tickets closed more than `retain_days` ago are deleted. Returns the
    downloaded files they had, which the caller deletes once this is committed."""
    if retain_days <= 0:
        return []
    expired = _expired_tickets(now - timedelta(days=retain_days))
    files = files_of(db.connection(), expired)
    db.execute(
        delete(Attachment)
        .where(Attachment.ticket_id.in_(expired))
        .execution_options(synchronize_session=False)
    )
    return files
