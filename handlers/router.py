"""The Router and the Context that every handler is written against.

A handler is a predicate plus a callback. Registration is explicit and ordered; the first
match wins, in this order across all included routers: commands, events, message kinds, then
the fallback for anything else. Roles are declared with a command and checked here, once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TypeVar

from sqlalchemy.orm import Session

from models import PersonRef, Role

from . import texts
from .message import Message


class Context:
    """What a handler may use: built by the application for each message.

    `db` is an ORM session inside the message's transaction, opened on first use (most
    replies need none); handlers may flush, never commit.
    """

    def __init__(
        self,
        *,
        person: PersonRef,
        message: Message,
        now: datetime,
        router: Router,
        open_session: Callable[[], Session],
    ) -> None:
        self.person = person
        self.message = message
        self.now = now
        self.router = router
        self._open_session = open_session

    @cached_property
    def db(self) -> Session:
        return self._open_session()


Reply = str | None
CommandFunc = Callable[[Context, str], Reply]
HandlerFunc = Callable[[Context], Reply]
C = TypeVar("C", bound=CommandFunc)
H = TypeVar("H", bound=HandlerFunc)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    role: Role
    func: CommandFunc
    aliases: tuple[str, ...] = ()

    def matches(self, word: str) -> bool:
        return word == _fold(self.name) or word in (_fold(a) for a in self.aliases)


class Router:
    """Handlers of one feature; routers are composed with `include` in one visible place."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._commands: list[Command] = []
        self._events: list[tuple[frozenset[str], HandlerFunc]] = []
        self._kinds: list[tuple[frozenset[str], HandlerFunc]] = []
        self._fallbacks: list[HandlerFunc] = []
        self._children: list[Router] = []

    # -- registration -------------------------------------------------------------------
    def command(
        self, name: str, *, help: str, role: Role = Role.RESIDENT, aliases: Sequence[str] = ()
    ) -> Callable[[C], C]:
        """A command: the first word of a text (or recognised voice) message."""
        if not help:
            raise ValueError(f"command {name!r} needs a help string")

        def register(func: C) -> C:
            self._commands.append(Command(name, help, role, func, tuple(aliases)))
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
        return func

    def include(self, *routers: Router) -> None:
        self._children.extend(routers)

    @staticmethod
    def _register(
        table: list[tuple[frozenset[str], HandlerFunc]], keys: Sequence[str]
    ) -> Callable[[H], H]:
        def register(func: H) -> H:
            table.append((frozenset(k.lower() for k in keys), func))
            return func

        return register

    # -- lookup --------------------------------------------------------------------------
    def _walk(self) -> Iterator[Router]:
        yield self
        for child in self._children:
            yield from child._walk()

    @property
    def commands(self) -> list[Command]:
        return [c for r in self._walk() for c in r._commands]

    def find_command(self, text: str) -> tuple[Command, str] | None:
        word, _, rest = _fold(text).strip().partition(" ")
        for command in self.commands:
            if command.matches(word):
                return command, rest.strip()
        return None

    def dispatch(self, ctx: Context) -> Reply:
        """Run the first matching handler and return its reply (None = nothing to say)."""
        message = ctx.message
        if message.text is not None and message.kind in ("text", "voice"):
            found = self.find_command(message.text)
            if found is not None:
                command, args = found
                if ctx.person.role < command.role:
                    return texts.NOT_ALLOWED
                return command.func(ctx, args)
        if message.kind == "event":
            for names, func in (e for r in self._walk() for e in r._events):
                if (message.event or "") in names:
                    return func(ctx)
        for kinds, func in (k for r in self._walk() for k in r._kinds):
            if message.kind in kinds:
                return func(ctx)
        for func in (f for r in self._walk() for f in r._fallbacks):
            return func(ctx)
        return None


def _fold(text: str) -> str:
    """Full-width forms and ideographic spaces folded, Latin letters lower-cased."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())
