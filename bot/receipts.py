"""What a delivery is answered with when its handler does not run: the reply stored for
the message already (WeChat's retry), a refusal (a signed pair reused with another
message), Busy (no time left: the webhook spools it), or an apology when the handler failed.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from handlers import Message
from handlers import texts as handler_texts
from models import InboundMessage, SeenRequest
from models.inbound import FAILED
from models.pushes import INBOUND_REPLY
from models.seen import seen_body

from .db import Database

log = logging.getLogger(__name__)


class SeenPair(Exception):
    """The request's (timestamp, nonce) pair was used before."""


class Busy(Exception):
    """The database stayed locked longer than the busy timeout; the message was not stored."""


class Replayed(Exception):
    """A signed (timestamp, nonce) pair already used with another message: a forgery."""


@dataclass(frozen=True)
class Delivery:
    """What the signed request proves: its timestamp and nonce, and the message's hash."""

    timestamp: int
    nonce: str
    body_hash: str


# A reply to a message retried from the console cannot be passive: it is pushed.
RETRIED_REPLY = INBOUND_REPLY.name
# What is left of a request's deadline below which a read is not worth starting.
_READ_MARGIN = 0.3


@dataclass(frozen=True)
class Outcome:
    reply: str | None  # None: nothing to say ("success")
    duplicate: bool = False  # a retry answered from the stored reply


class Receipts:
    """The stored side of deliveries: answers from what earlier deliveries left."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    def seen_before(self, key: str, delivery: Delivery | None, deadline: float | None) -> Outcome:
        """The pair was used before: WeChat delivering the same message again gets the stored
        reply; any other message under that pair is a forgery (Replayed)."""
        assert delivery is not None
        with self.db.reading(deadline=deadline) as conn:
            first = seen_body(conn, delivery.timestamp, delivery.nonce)
        if first != delivery.body_hash:
            raise Replayed(key)
        return self.stored(key)

    def stored(self, key: str, *, busy: bool = False, deadline: float | None = None) -> Outcome:
        if busy and deadline is not None and deadline - time.monotonic() < _READ_MARGIN:
            raise Busy(key)  # no time left to look for a stored reply: spool it
        with self.db.reading(deadline=deadline) as conn:
            found = conn.execute(
                select(InboundMessage.id, InboundMessage.reply).where(
                    InboundMessage.dedupe_key == key
                )
            ).one_or_none()
        if found is None:
            if busy:
                raise Busy(key)
            raise RuntimeError(f"dedupe key {key} conflicted but no row was found")
        log.info("duplicate delivery %s answered from the stored reply", key)
        return Outcome(found.reply, duplicate=True)

    def record_failure(
        self, key: str, message: Message, delivery: Delivery | None, exc: Exception
    ) -> Outcome:
        """Keep the message and an apology, so retries and staff both see what happened."""
        try:
            with self.db.session() as db:
                if delivery is not None:
                    db.add(SeenRequest(**dataclasses.asdict(delivery)))
                db.add(
                    InboundMessage(
                        dedupe_key=key,
                        openid=message.sender,
                        kind=kind_of(message),
                        msg_id=message.msg_id,
                        content=content_of(message),
                        received_at=self.clock(),
                        status=FAILED,
                        reply=handler_texts.SORRY,
                        # The class only: the message would quote SQL parameters.
                        error=type(exc).__name__,
                    )
                )
        except IntegrityError:
            return self.stored(key)
        return Outcome(handler_texts.SORRY)


def content_of(message: Message) -> str | None:
    return message.text if message.text is not None else message.event_key


def kind_of(message: Message) -> str:
    kind = f"event:{message.event}" if message.kind == "event" else message.kind
    return kind[:32]


# PostgreSQL's lock_not_available: a lock wait ran past the transaction's lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


def is_lock_timeout(exc: OperationalError) -> bool:
    """SQLite's "database is locked/busy", or PostgreSQL's lock_timeout (bot/db.py)."""
    if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
        return True
    return "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower()
