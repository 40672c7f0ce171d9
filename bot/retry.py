"""Messages whose handling failed, tried again on a staff member's request.

A failed message keeps its row (status "failed", the error's class, the apology that was
sent). Retrying rebuilds the message from that row and runs it through the conversation
exactly as a first delivery would, in one transaction that also removes the failed row:
on success the message is stored as handled, its pushes are queued, and the reply — too late
to be a passive one — is pushed to the person (push kind `inbound.reply`). On another
failure nothing changes but the error class.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from handlers import Message
from models import InboundMessage
from models.inbound import FAILED, note_failure
from models.privacy import ERASED_PREFIX

from .conversation import Conversation

log = logging.getLogger(__name__)


class Retried(enum.Enum):
    DONE = "done"  # handled now; reply pushed
    GONE = "gone"  # no such message, or not failed (retried already)
    ERASED = "erased"  # its sender's data was erased: nobody to handle it for
    FAILED = "failed"  # failed again


@dataclass(frozen=True)
class RetryResult:
    outcome: Retried
    error: str | None = None  # the error class when it failed again
    replied: bool = False  # DONE with a reply (pushed to the person)


def stored_message(row: InboundMessage) -> Message:
    """The message as WeChat delivered it, from what its row kept (media details are not
    kept: an image retried is an image without its picture)."""
    kind, _, event = row.kind.partition(":")
    if kind == "event":
        return Message(
            kind="event",
            sender=row.openid,
            account="",
            created_at=row.received_at,
            event=event,
            event_key=row.content,
        )
    return Message(
        kind=kind,
        sender=row.openid,
        account="",
        created_at=row.received_at,
        msg_id=row.msg_id,
        text=row.content if kind in ("text", "voice") else None,
    )


def retry_failed(conversation: Conversation, inbound_id: int) -> RetryResult:
    """Run a failed message through the conversation again."""
    db = conversation.db
    with db.session(read_only=True) as session:
        row = session.get(InboundMessage, inbound_id)
        if row is None or row.status != FAILED:
            return RetryResult(Retried.GONE)
        if row.openid.startswith(ERASED_PREFIX):
            return RetryResult(Retried.ERASED)
        session.expunge(row)
    try:
        outcome = conversation.handle(stored_message(row), retrying=row)
    except Exception as exc:  # the handler failed again; logged by the conversation
        error = type(exc).__name__
        with db.session() as session:
            note_failure(session, inbound_id, error)
        return RetryResult(Retried.FAILED, error)
    if outcome.duplicate:
        return RetryResult(Retried.GONE)
    log.info("failed message %d retried and handled", inbound_id)
    return RetryResult(Retried.DONE, replied=bool(outcome.reply))
