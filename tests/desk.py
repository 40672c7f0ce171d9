"""The fast harness: a message straight into the conversation service, without HTTP.

The signed-HTTP dialogue tests (conftest.WeChat) prove a journey end to end through the
webhook: signature, timestamp, XML, encryption, spool. Most small cases only need what the
bot answers and what it stored. `Desk` builds the conversation service exactly as the app does
(`bot.app.build_conversation`) on the test's own migrated SQLite database, and hands it the
`Message` the webhook would have parsed: no Flask app, no signing, no XML. Each message is
handled in its own database transaction, as in production (dedupe, rate limits, held pushes).

    def test_x(desk: Desk) -> None:
        resident = desk.chat("o_resident")
        assert resident.say("帮助").startswith("议事厅可以为您办理")
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from bot.app import build_conversation
from bot.classify import seed_default_topics
from bot.config import Settings
from bot.db import Database
from bot.nlp import load_segmenter
from handlers import Message

ACCOUNT = "gh_desk"


class Desk:
    """The conversation service on its own, with a clock the test may move."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        load_segmenter()
        self.clock = clock
        self.db = Database(settings)
        self.db.migrate()
        with self.db.session() as session:
            seed_default_topics(session, datetime.now(UTC))
        self.conversation = build_conversation(settings, self.db, clock)
        self._msg_ids = itertools.count(1)

    def chat(self, openid: str) -> Resident:
        return Resident(self, openid)

    def send(
        self,
        openid: str,
        kind: str = "text",
        *,
        text: str | None = None,
        event: str | None = None,
        event_key: str | None = None,
        details: dict[str, str] | None = None,
    ) -> str | None:
        """Hand one message to the conversation; its reply (None: nothing said)."""
        message = Message(
            kind=kind,
            sender=openid,
            account=ACCOUNT,
            created_at=self.clock().replace(microsecond=0),
            msg_id=None if kind == "event" else str(next(self._msg_ids)),
            text=text,
            event=event,
            event_key=event_key,
            details=details or {},
        )
        return self.conversation.handle(message).reply

    def close(self) -> None:
        self.db.dispose()


class Resident:
    """One person's side of the chat: `say` returns what the bot answers."""

    def __init__(self, desk: Desk, openid: str) -> None:
        self.desk = desk
        self.openid = openid

    def say(self, text: str) -> str | None:
        return self.desk.send(self.openid, text=text)

    def follow(self) -> str | None:
        return self.desk.send(self.openid, "event", event="subscribe")

    def tap(self, key: str) -> str | None:
        return self.desk.send(self.openid, "event", event="click", event_key=key)

    def send(self, kind: str, **details: str) -> str | None:
        return self.desk.send(self.openid, kind, details=details)


@pytest.fixture
def desk(settings: Settings, clock: Callable[[], datetime]) -> Iterator[Desk]:
    found = Desk(settings, clock)
    yield found
    found.close()
