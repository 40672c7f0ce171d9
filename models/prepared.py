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
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    order: tuple[str, ...]
    compiled: Any
    bind_processors: dict[str, Processor]
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
        found = _Compiled(
            sql=compiled.string,
            positional=compiled.positional,
            order=names,
            compiled=compiled,
            # The dialect's own implementation of each type: e.g. SQLite's DATETIME, which
            # renders every datetime as the same fixed-width text the ORM writes.
            bind_processors={
                name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for name, bind in compiled.binds.items()
            },
            result_processors=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.exported_columns
            ),
        )
        self._by_dialect[dialect.name] = found
        return found

    def run(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute with `params` in `conn`'s transaction; return the RETURNING rows."""
        c = self._compile(conn.dialect)
        values = c.compiled.construct_params(params)
        for name, process in c.bind_processors.items():
            if process is not None and name in values:
                values[name] = process(values[name])
        args: Any = tuple(values[n] for n in c.order) if c.positional else values
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
