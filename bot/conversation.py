"""One inbound message, handled exactly once: dedupe, person, route, store the reply.

Everything a message causes happens in one database transaction that begins by inserting the
message's dedupe key. A retry of the same message (same process or another) collides with that
unique key: the database makes it wait until the first transaction ends, and it then answers
with the stored reply. If the first attempt failed, its rollback frees the key and the retry
does the work instead, so nothing is lost. The signed request's (timestamp, nonce) pair is
recorded first in the same transaction (models/seen.py): a pair seen before is answered by
bot/receipts.py — the stored reply for WeChat's retry of the same message, Replayed for
another message.

Rate limits ([abuse] per_minute, per_day) are counted by the same upsert that records the
person's last-seen time (models/people.py), so they hold across processes at no extra query.
The first message over a limit is answered with a notice; later ones are stored but not
handled (no ticket, no push, no reply). Staff and admins are exempt.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, tzinfo

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from handlers import Context, Message, Options, Router
from handlers import texts as handler_texts
from models import (
    Classification,
    InboundMessage,
    PersonRef,
    Role,
    claim_inbound,
    dedupe_key,
    record_reply,
    touch_person,
)
from models.communities import community_id_of
from models.inbound import drop_failed, push_late_reply
from models.intake import Hint, hint_for
from models.outbox import take_held
from models.seen import record_seen
from words import clean

from .classify import Classifier, RuleBook, render_explanation
from .classify.book import MessageBooks
from .config.accounts import STREET
from .db import Database
from .delivery.templates import with_held
from .receipts import Busy as Busy
from .receipts import (
    Delivery,
    Outcome,
    Receipts,
    SeenPair,
    content_of,
    is_lock_timeout,
    kind_of,
)
from .receipts import Replayed as Replayed
from .writelock import DatabaseBusy

log = logging.getLogger(__name__)
_KEPT_SESSION = "yishiting.session"  # in Connection.info: see _session_on


class _Duplicate(Exception):
    """The dedupe key is taken: this delivery is a retry."""


def person_tag(openid: str) -> str:
    """A short, stable tag for logs: lets an admin follow one person without the openid."""
    return hashlib.sha256(openid.encode()).hexdigest()[:10]


class Conversation:
    def __init__(
        self,
        db: Database,
        router: Router,
        clock: Callable[[], datetime],
        rulebook: RuleBook,
        options: Options,
        tz: tzinfo,
    ) -> None:
        self.db = db
        self.router = router
        self.clock = clock
        self.rulebook = rulebook
        self.options = options
        self.tz = tz
        self.receipts = Receipts(db, clock)
        # Community names of the accounts, by id once found: ids never change for a name.
        self._community_ids: dict[str, int] = {}

    def handle(
        self,
        message: Message,
        *,
        delivery: Delivery | None = None,
        deadline: float | None = None,
        retrying: InboundMessage | None = None,
    ) -> Outcome:
        """Handle `message` once; a repeated delivery gets the first one's reply.

        `delivery`: the signed request's pair, recorded with the message (Replayed when the
        pair came with another message). `deadline` (time.monotonic()): waits for the database
        end there, raising Busy. `retrying`: the failed row this is a second try of."""
        if message.text:
            # Control and invisible characters go before anything reads, files or shows it.
            message = dataclasses.replace(message, text=clean(message.text))
        key = retrying.dedupe_key if retrying is not None else self.key_of(message)
        try:
            return self._process(key, message, delivery, deadline, retrying)
        except SeenPair:
            return self.receipts.seen_before(key, delivery, deadline)
        except _Duplicate:
            return self.receipts.stored(key)
        except DatabaseBusy:
            return self.receipts.stored(key, busy=True, deadline=deadline)
        except OperationalError as exc:
            if is_lock_timeout(exc):
                return self.receipts.stored(key, busy=True, deadline=deadline)
            raise
        except Exception as exc:
            log.exception("handling %s from %s failed", message.kind, person_tag(message.sender))
            if retrying is not None:
                raise  # the failed row stays as it was; the console says so
            return self.receipts.record_failure(key, message, delivery, exc)

    @staticmethod
    def key_of(message: Message) -> str:
        return dedupe_key(
            msg_id=message.msg_id,
            openid=message.sender,
            create_time=int(message.created_at.timestamp()),
            event=message.event,
            event_key=message.event_key,
        )

    def _process(
        self,
        key: str,
        message: Message,
        delivery: Delivery | None,
        deadline: float | None,
        retrying: InboundMessage | None,
    ) -> Outcome:
        now = self.clock()
        classify, text = self._classifier_for(message)
        hint = self._hint(message, text, classify, deadline) if text is not None else None
        with self.db.transaction(deadline=deadline) as conn:
            if delivery is not None:
                try:
                    record_seen(
                        conn,
                        timestamp=delivery.timestamp,
                        nonce=delivery.nonce,
                        body_hash=delivery.body_hash,
                    )
                except IntegrityError:
                    raise SeenPair(key) from None
            if retrying is not None and not drop_failed(conn, retrying.id):
                raise _Duplicate(key)  # retried already (another click, another process)
            try:
                # A retry's insert stops here, until the first delivery's transaction ends.
                inbound_id = claim_inbound(
                    conn,
                    key=key,
                    openid=message.sender,
                    kind=kind_of(message),
                    msg_id=message.msg_id,
                    content=content_of(message),
                    now=now,
                )
            except IntegrityError:
                raise _Duplicate(key) from None
            wrote = message.kind != "event"
            day = now.astimezone(self.tz).toordinal()
            account = message.account_name or None  # "": the legacy account, stored as NULL
            community_id = self._community_of(conn, message)
            person = touch_person(
                conn,
                message.sender,
                now,
                wrote=wrote,
                day=day,
                account=account,
                community_id=community_id,
            )
            if wrote and self._over_limit(person):
                reply = self._limit_notice(person)
                record_reply(conn, inbound_id, person_id=person.id, reply=reply)
                log.info("rate limit: %s over it, message stored only", person_tag(message.sender))
                return Outcome(reply)
            reply = self._dispatch(conn, message, person, now, classify, hint, community_id)
            record_reply(conn, inbound_id, person_id=person.id, reply=reply)
            if retrying is not None and reply:
                push_late_reply(conn, key, person_id=person.id, reply=reply, now=now)
        log.debug(
            "handled %s from %s (reply %s)",
            kind_of(message),
            person_tag(message.sender),
            "text" if reply else "none",
        )
        return Outcome(reply)

    def _dispatch(
        self,
        conn: Connection,
        message: Message,
        person: PersonRef,
        now: datetime,
        classify: Callable[[str], Classification],
        hint: Hint | None,
        community_id: int | None,
    ) -> str | None:
        """Route the message to its handler; the reply, with waiting pushes on top.
        `community_id`: the community of the account it came in on (_community_of)."""
        opened: list[Session] = []  # the handler's ORM session, if it asked for one

        def open_session() -> Session:
            opened.append(_session_on(self.db, conn))
            return opened[-1]

        ctx = Context(
            person=person,
            message=message,
            now=now,
            router=self.router,
            open_session=open_session,
            classify=classify,
            explain=lambda text: render_explanation(self._book_of(person).explain(text)),
            options=self.options,
            tz=self.tz,
            hint=hint,
            community_id=community_id,
            street_account=message.account_community == STREET,
        )
        try:
            reply = self.router.dispatch(ctx)
            for session in opened:
                session.flush()  # what the handler changed, before the reply is recorded
        finally:
            for session in opened:
                session.close()
        # Waiting pushes go on top of the reply — never on an unsubscribe's: nobody
        # reads that one, so they would be marked shown and lost.
        if person.held_pushes and message.event != "unsubscribe":
            held, more = take_held(conn, person.id, now)
            if held:
                reply = with_held(reply, held, more)
        return reply

    def _community_of(self, conn: Connection, message: Message) -> int | None:
        """The community of the account `message` came in on: the legacy account's is the
        first community; a street-wide account has none (its residents say theirs)."""
        name = message.account_community
        if name == STREET:
            return None
        found = self._community_ids.get(name)
        if found is None:
            found = community_id_of(conn, name)
            if found is None:
                # check-config names it; meanwhile its residents' community comes from
                # their household, else the first community's staff see their reports.
                log.warning("account %s: no community named %r", message.account_name, name)
                return None
            self._community_ids[name] = found
        return found

    def _book_of(self, person: PersonRef) -> Classifier:
        """The classifier of the person's community (the street's for street staff)."""
        return self.rulebook.for_community(person.community_id)

    def _over_limit(self, person: PersonRef) -> bool:
        """More messages this minute or today than [abuse] allows (staff never are)."""
        if person.role >= Role.STAFF:
            return False
        per_minute, per_day = self.options.per_minute, self.options.per_day
        return bool(
            (per_minute and person.sent_this_minute > per_minute)
            or (per_day and person.sent_today > per_day)
        )

    def _limit_notice(self, person: PersonRef) -> str | None:
        """The notice for the first message over a limit; None (no reply) after it."""
        per_minute, per_day = self.options.per_minute, self.options.per_day
        if per_day and person.sent_today > per_day:
            return handler_texts.TOO_FAST if person.sent_today == per_day + 1 else None
        return handler_texts.TOO_FAST if person.sent_this_minute == per_minute + 1 else None

    def _classifier_for(
        self, message: Message
    ) -> tuple[Callable[[str], Classification], str | None]:
        """`classify` for this message (each community's rules, each text classified once),
        and the text to classify before the write transaction (None when the text is a
        command or not text).

        Segmenting is the costliest step of filing a request; done in the read transaction
        before (`_hint`), it does not hold up other writers. Texts that are commands are not
        classified at all.
        """
        books = MessageBooks(self.rulebook)
        text = message.text
        if text and message.kind in ("text", "voice") and not self.router.find_command(text):
            return books, text
        return books, None

    def _hint(
        self,
        message: Message,
        text: str,
        classify: Callable[[str], Classification],
        deadline: float | None,
    ) -> Hint | None:
        """Classify and route the text as the ticket it will probably become, in a read
        transaction, so the write transaction (one writer at a time on SQLite) has less to
        do. Intake checks the hint and works it out again when it does not fit; nothing
        depends on it."""
        try:
            with self.db.reading(deadline=deadline) as conn:  # its waits end there too
                session = _session_on(self.db, conn)
                try:
                    return hint_for(
                        session,
                        openid=message.sender,
                        text=text,
                        classify=classify,
                        community_id=self._community_of(conn, message),
                    )
                finally:
                    session.close()
        except SQLAlchemyError:
            log.warning("pre-routing failed; the ticket is routed when filed", exc_info=True)
            return None


def _session_on(db: Database, conn: Connection) -> Session:
    """A Session joined to `conn`'s transaction, closed by the caller after use.

    The Session is kept with the driver connection (bot/db.py keeps a few open) and used again
    by its next transaction on the same Connection: a closed Session starts afresh, and making
    a new one twice a message (the hint, the handler) cost about as much as routing the report
    (bench/report_cpu.py)."""
    session: Session | None = conn.info.get(_KEPT_SESSION)
    if session is None or session.bind is not conn:  # info outlives a closed Connection
        session = conn.info[_KEPT_SESSION] = db.session_on(conn)
    return session
