"""The declarative base and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# The largest id or number an integer column holds (PostgreSQL's int4). A number a person
# typed past it names nothing: lookups answer "not found" instead of overflowing the driver.
ID_MAX = 2_147_483_647


def fits_id(number: int) -> bool:
    """Whether `number` could be a row's id or number at all."""
    return 0 < number <= ID_MAX


# Stable constraint names, so Alembic batch migrations on SQLite can find them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC everywhere."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, one fast step to the text SQLAlchemy's DATETIME writes, remembering
        the last value: a message binds the same `now` a dozen times."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # One tuple, replaced whole: threads may share this processor.
        last: list[tuple[datetime | None, str]] = [(None, "")]

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            seen, seen_text = last[0]
            if value is seen:
                return seen_text
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
            utc = value.astimezone(UTC)
            text = (
                f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
                f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}"
            )
            last[0] = (value, text)
            return text

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
