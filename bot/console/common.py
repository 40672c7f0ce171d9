"""What console views share: the app's database, clock and time zone, and template filters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Flask, current_app, flash
from sqlalchemy.orm import Session

from models.base import ID_MAX
from words import when

from ..extension import Yishiting, yishiting


def ys() -> Yishiting:
    return yishiting(current_app)


def now() -> datetime:
    """The app's clock (tests move it), the same one the chat uses."""
    return ys().conversation.clock()


@contextmanager
def reading() -> Iterator[Session]:
    with ys().db.session(read_only=True) as session:
        yield session


@contextmanager
def writing() -> Iterator[Session]:
    with ys().db.session() as session:
        yield session


def small_int(value: object, *, low: int = 0, high: int = ID_MAX) -> int | None:
    """A number a person typed or a page sent, or None: ASCII digits only (not "²"), within
    [low, high] (a huge one would overflow the database's integers, not find anything)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if low <= number <= high else None


def page_number(value: str | None) -> int:
    """?page=N as a page number: 1 when missing or nonsense, never past a sane bound."""
    return small_int(value or "1", low=1, high=100_000) or 1


def ok(message: str) -> None:
    flash(message, "ok")


def problem(message: str) -> None:
    flash(message, "error")


def register_filters(app: Flask) -> None:
    @app.template_filter("when")
    def _when(moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return when(moment, yishiting(app).settings.tz)

    @app.template_filter("pct")
    def _pct(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.0f}%"

    @app.template_filter("pct1")
    def _pct1(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"
