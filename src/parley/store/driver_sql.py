"""Core statements compiled once for a database, then run as the driver's SQL.

SQLAlchemy looks up (or compiles) a Core statement on every execute, builds its
parameters and runs every value through its type's processor. For the few statements
that the group commit runs for every batch, that bookkeeping cost as much as the
statements themselves on SQLite (docs/performance.md). Such a statement is compiled here
once per database and shape, by SQLAlchemy, and run with `Connection.exec_driver_sql`,
which still goes through the connection's transaction, events, logging and error
wrapping. The values still pass through their types' bind processors; nothing on the way
back is processed, so only statements returning integers are run this way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    # The parameters' names in the order the SQL takes them, for drivers whose
    # placeholders are positional (SQLite's `?`); None where they are named.
    order: tuple[str, ...] | None
    # The parameters whose type processes their values on the way in (a datetime, say).
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect) -> DriverStatement:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        processors = []
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors.append((name, processor))
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        return cls(compiled.string, order, tuple(processors))

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The values as the driver takes them; `values` is processed in place."""
        for name, processor in self.processors:
            values[name] = processor(values[name])
        if self.order is None:
            return values
        return tuple([values[name] for name in self.order])

    def run(self, connection: Connection, values: dict[str, Any]) -> Iterable[Any]:
        """Runs the statement (`values` is processed in place); its rows, if any."""
        return connection.exec_driver_sql(self.sql, self.parameters(values))

    def run_many(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        connection.exec_driver_sql(self.sql, [self.parameters(row) for row in rows])
