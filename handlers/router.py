"""The Router and the Context that every handler is written against.

A handler is a predicate plus a callback. Registration is explicit and ordered; the first
match wins, in this order across all included routers: a pending conversation state (the most
recent first), commands, events, message kinds, then the fallback for anything else. Roles
are declared with a command and checked here, once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cached_property
from typing import TypeVar

from sqlalchemy.orm import Session

from models import Classification, ConversationState, PersonRef, Role, pending_states
from models.intake import Hint, Policy
from words import fold

from . import texts
from .message import Message


@dataclass(frozen=True)
class Options:
    """Settings the conversation needs (from the config's [tickets] section)."""

    min_chars: int = 4  # shorter texts are asked for more detail, not filed
    attach_minutes: int = 10  # an image or location within this joins the last ticket
    choice_minutes: int = 30  # how long the "which topic?" question waits for an answer
    rating_days: float = 3  # how long a rating question waits before its one reminder
    followup_days: float = 28  # 回头看: when a resolved ticket's follow-up question is due
    review_days: float = 30  # 议: a finished 议题's 回头看 ([deliberation] review_days)
    ladder: tuple[str, ...] = ("网格员", "社区", "街道")  # escalation levels' names, 1 first
    # [abuse]: messages a person may write a minute / a day (0 = off, each).
    per_minute: int = 20
    per_day: int = 200
    # What intake applies to a report (same text, 附议, the open-ticket cap, the triage
    # deadline): built from the config once, by the same function every channel uses.
    intake: Policy = Policy()
    # [deliberation]: what 附议 counts by (household/person), and the backing a 提议 needs
    # (a count, or a share of the households in scope), fixed on each item when proposed.
    backing_unit: str = "household"
    backing_threshold: float = 10.0


class Context:
    """What a handler may use: built by the application for each message.

    `db` is the one database handle: an ORM session inside the message's transaction, opened
    on first use (a greeting or 帮助 needs none); handlers may flush, never commit. Domain
    operations run their hot statements on its connection themselves (models/prepared.py).
    `classify` is the keyword classifier. `notices` are lines put before the reply (e.g.
    what became of an unanswered question).
    """

    def __init__(
        self,
        *,
        person: PersonRef,
        message: Message,
        now: datetime,
        router: Router,
        open_session: Callable[[], Session],
        classify: Callable[[str], Classification],
        explain: Callable[[str], str],
        options: Options | None = None,
        tz: tzinfo = UTC,
        hint: Hint | None = None,
        community_id: int | None = None,
        street_account: bool = False,
    ) -> None:
        self.person = person
        self.message = message
        self.now = now
        self.router = router
        self.classify = classify
        self.explain = explain  # the classifier's reasoning on a text, for admins
        self.options = options or Options()
        self.tz = tz  # the community's time zone, for times a person reads
        # The message's text routed as a new ticket before the write transaction (or None):
        # intake checks it and may save that work inside the transaction.
        self.hint = hint
        # The account the message came in on: its community (None: a street-wide account),
        # and whether it serves the whole street (its residents say which community).
        self.community_id = community_id
        self.street_account = street_account
        self.notices: list[str] = []
        self._open_session = open_session

    @cached_property
    def db(self) -> Session:
        return self._open_session()

    def pending_states(self) -> list[ConversationState]:
        """The questions waiting for this person's answer, the most recent first."""
        expires = self.person.state_expires_at
        if expires is None or expires <= self.now:
            return []  # nothing pending: no query at all
        return pending_states(self.db, self.person.id, self.now)


class Pass:
    """A state handler's answer when the message is not for it: routing goes on."""


PASS = Pass()


Reply = str | None
CommandFunc = Callable[[Context, str], Reply]
HandlerFunc = Callable[[Context], Reply]
StateFunc = Callable[[Context, ConversationState], Reply | Pass]
C = TypeVar("C", bound=CommandFunc)
H = TypeVar("H", bound=HandlerFunc)
S = TypeVar("S", bound=StateFunc)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    role: Role
    func: CommandFunc
    aliases: tuple[str, ...] = ()

    @cached_property
    def words(self) -> frozenset[str]:
        """The name and aliases as typed words are matched (folded once)."""
        return frozenset(_fold(w) for w in (self.name, *self.aliases))

    def matches(self, word: str) -> bool:
        return word in self.words


# Bumped by every registration anywhere: a router's flattened tables are rebuilt after one.
_CHANGES = [0]


@dataclass(frozen=True)
class _Tables:
    commands: list[Command]
    words: dict[str, Command]
    states: dict[str, StateFunc]
    events: list[tuple[frozenset[str], HandlerFunc]]
    kinds: list[tuple[frozenset[str], HandlerFunc]]
    fallbacks: list[HandlerFunc]


class Router:
    """Handlers of one feature; routers are composed with `include` in one visible place."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._commands: list[Command] = []
        self._events: list[tuple[frozenset[str], HandlerFunc]] = []
        self._kinds: list[tuple[frozenset[str], HandlerFunc]] = []
        self._fallbacks: list[HandlerFunc] = []
        self._states: dict[str, StateFunc] = {}
        self._children: list[Router] = []
        self._cache: tuple[int, _Tables] | None = None

    # -- registration -------------------------------------------------------------------
    def command(
        self, name: str, *, help: str, role: Role = Role.RESIDENT, aliases: Sequence[str] = ()
    ) -> Callable[[C], C]:
        """A command: the first word of a text (or recognised voice) message."""
        if not help:
            raise ValueError(f"command {name!r} needs a help string")

        def register(func: C) -> C:
            self._commands.append(Command(name, help, role, func, tuple(aliases)))
            _CHANGES[0] += 1
            return func

        return register

    def state(self, kind: str) -> Callable[[S], S]:
        """The handler of a pending conversation state of `kind`; it may return PASS."""

        def register(func: S) -> S:
            self._states[kind] = func
            _CHANGES[0] += 1
            return func

        return register

    def event(self, *names: str) -> Callable[[H], H]:
        """An event by its lower-case name (subscribe, click, ...)."""
        return self._register(self._events, names)

    def message(self, *kinds: str) -> Callable[[H], H]:
        """A message by its kind (image, voice, location, ...)."""
        return self._register(self._kinds, kinds)

    def fallback(self, func: H) -> H:
        """Anything no other handler took."""
        self._fallbacks.append(func)
        _CHANGES[0] += 1
        return func

    def include(self, *routers: Router) -> None:
        self._children.extend(routers)
        _CHANGES[0] += 1

    @staticmethod
    def _register(
        table: list[tuple[frozenset[str], HandlerFunc]], keys: Sequence[str]
    ) -> Callable[[H], H]:
        def register(func: H) -> H:
            table.append((frozenset(k.lower() for k in keys), func))
            _CHANGES[0] += 1
            return func

        return register

    # -- lookup --------------------------------------------------------------------------
    def _walk(self) -> Iterator[Router]:
        yield self
        for child in self._children:
            yield from child._walk()

    def _tables(self) -> _Tables:
        """Everything registered under this router, flattened once (rebuilt after changes)."""
        if self._cache is None or self._cache[0] != _CHANGES[0]:
            routers = list(self._walk())
            commands = [c for r in routers for c in r._commands]
            words: dict[str, Command] = {}
            for command in commands:
                for word in command.words:
                    words.setdefault(word, command)  # the first registered wins
            tables = _Tables(
                commands=commands,
                words=words,
                states={k: f for r in routers for k, f in r._states.items()},
                events=[e for r in routers for e in r._events],
                kinds=[k for r in routers for k in r._kinds],
                fallbacks=[f for r in routers for f in r._fallbacks],
            )
            self._cache = (_CHANGES[0], tables)
        return self._cache[1]

    @property
    def commands(self) -> list[Command]:
        return self._tables().commands

    def find_command(self, text: str) -> tuple[Command, str] | None:
        """The command a text starts with and the rest of the text exactly as written.

        Only the command word is folded (so 查询, 查詢 and ｑ… all match); the arguments are
        what the person typed — an outcome, a reason, a note — and are stored and shown as
        such. Handlers fold what they match on themselves (numbers, choices)."""
        word, rest = split_word(text)
        command = self._tables().words.get(_fold(word))
        return (command, rest) if command is not None else None

    def dispatch(self, ctx: Context) -> Reply:
        """Run the first matching handler and return its reply (None = nothing to say)."""
        reply = self._route(ctx)
        if ctx.notices:
            return "\n\n".join([*ctx.notices, *([reply] if reply else [])])
        return reply

    def _route(self, ctx: Context) -> Reply:
        message = ctx.message
        tables = self._tables()
        states = tables.states
        for state in ctx.pending_states():
            handler = states.get(state.kind)
            if handler is not None:
                answer = handler(ctx, state)
                if not isinstance(answer, Pass):
                    return answer
        if message.text is not None and message.kind in ("text", "voice"):
            found = self.find_command(message.text)
            if found is not None:
                command, args = found
                if ctx.person.role < command.role:
                    return texts.NOT_ALLOWED
                return command.func(ctx, args)
        if message.kind == "event":
            for names, func in tables.events:
                if (message.event or "") in names:
                    return func(ctx)
        for kinds, func in tables.kinds:
            if message.kind in kinds:
                return func(ctx)
        for func in tables.fallbacks:
            return func(ctx)
        return None


# Any whitespace separates words: a space, a full-width space (U+3000), a newline.
_FIRST_WORD = re.compile(r"\s*(\S*)\s*(.*)", re.DOTALL)


def split_word(text: str) -> tuple[str, str]:
    """The first word of `text` and the rest, both as written (outer whitespace dropped)."""
    match = _FIRST_WORD.match(text)
    assert match is not None  # the pattern matches every string
    return match.group(1), match.group(2).rstrip()


def _fold(text: str) -> str:
    """A command word as matched: folded like all text (fold), runs of spaces made one."""
    return " ".join(fold(text).split())
