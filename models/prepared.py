"""Core statements compiled once and run on the driver's cursor: the per-message hot path.

SQLAlchemy's execution machinery costs about 70 µs a statement on this project's machines,
which made it the largest share of answering a WeChat message (bench/README.md). The few
statements that run for every message are compiled once per dialect here and executed on
the DBAPI cursor of the same connection, inside the same transaction. Values pass through
the same type processors SQLAlchemy applies, and driver errors are wrapped into SQLAlchemy's
exceptions (IntegrityError, OperationalError ...), so callers see no difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any] | None


_MISSING = object()


@dataclass(frozen=True)
class _Bind:
    """Where one placeholder's value comes from: a parameter, else the statement's own."""

    name: str
    key: str
    default: Any
    process: Processor


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    binds: tuple[_Bind, ...]  # in placeholder order when positional
    result_processors: tuple[Processor, ...]


class Prepared:
    """One INSERT / UPDATE / SELECT statement, its SQL compiled once per dialect."""

    def __init__(
        self, statement: UpdateBase | Select[Any], keys: Sequence[str] | None = None
    ) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is not None:
            return found
        compiled = self.statement.compile(dialect=dialect, column_keys=self.keys)
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
        binds = []
        for name in names:
            bind = compiled.binds[name]
            default = _MISSING if bind.required else bind.effective_value
            binds.append(
                _Bind(
                    name=name,
                    key=bind.key,
                    default=default,
                    # The dialect's own implementation of each type: e.g. SQLite's DATETIME,
                    # which renders every datetime as the same fixed-width text the ORM writes.
                    process=bind.type.dialect_impl(dialect).bind_processor(dialect),
                )
            )
        found = _Compiled(
            sql=compiled.string,
            positional=compiled.positional,
            binds=tuple(binds),
            result_processors=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.exported_columns
            ),
        )
        self._by_dialect[dialect.name] = found
        return found

    def run(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute with `params` in `conn`'s transaction; return the RETURNING rows."""
        c = self._by_dialect.get(conn.dialect.name) or self._compile(conn.dialect)
        values = []
        for bind in c.binds:
            value = params.get(bind.key, bind.default)
            if value is _MISSING:
                raise KeyError(f"no value for the parameter {bind.key!r}")
            values.append(bind.process(value) if bind.process is not None else value)
        args: Any = (
            tuple(values)
            if c.positional
            else {b.name: v for b, v in zip(c.binds, values, strict=True)}
        )
        dbapi = conn.dialect.loaded_dbapi
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(c.sql, args)
            rows = cursor.fetchall() if c.result_processors else []
        except dbapi.Error as exc:
            raise DBAPIError.instance(c.sql, args, exc, dbapi.Error) from exc
        finally:
            cursor.close()
        return [
            tuple(
                p(v) if p is not None else v for p, v in zip(c.result_processors, row, strict=True)
            )
            for row in rows
        ]


def connection_of(db: Session) -> Connection:
    """The Connection `db`'s statements run on, for Prepared statements in domain operations.

    A Session joined to a Connection already inside its (not nested) transaction runs on that
    very Connection, which `db.connection()` returns only after starting the Session's own
    transaction bookkeeping: about half of what a Session per message added to a report
    (bench/report_cpu.py). Return it directly. Any other Session (bound to an engine, or
    made to create savepoints) begins as usual."""
    bind = db.bind
    if (
        isinstance(bind, Connection)
        and db.join_transaction_mode != "create_savepoint"
        and bind.in_transaction()
        and not bind.in_nested_transaction()
    ):
        return bind
    return db.connection()
