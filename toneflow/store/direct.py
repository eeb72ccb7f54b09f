"""The call log's two hot writes, run on the pooled DB-API connection.

An answer's record and an event are each two prebuilt statements in one transaction
(:mod:`toneflow.store.writes`). Executed through a SQLAlchemy ``Connection``, each
statement paid for SQLAlchemy's per-execute bookkeeping: a compiled-cache lookup, an
execution context, the parameters built and converted, events fired; the transaction
paid for a ``Connection`` and for ``BEGIN IMMEDIATE`` run as one more such statement.
Profiled (cProfile, in process), that was about 70 % of an answer's write; the SQL
itself and the commit the rest.

Here SQLAlchemy still does everything but the executing: it compiles each statement
once per backend and key set (:class:`Prepared`), and the converters that turn the
values into what the driver binds are the column types' own (``bind_processor``), so a
value is stored exactly as through a ``Connection`` (aware datetimes as UTC text on
SQLite, JSON through the dialect's serialiser, booleans as the backend takes them). The
connection comes from the engine's pool (``pool_pre_ping`` on PostgreSQL still applies),
the transaction starts the way the engine's own ``begin`` listener starts one
(:func:`toneflow.store.engine.begin_sqlite_write`), and a driver error is raised as
SQLAlchemy's ``DBAPIError`` (a disconnect invalidates the connection), so callers catch
``SQLAlchemyError`` as before. What it gives up: SQLAlchemy's engine events for these
two writes (nothing in toneflow listens to them; tests watch the SQL SQLite runs).

On PostgreSQL the statements run on psycopg's ``RawCursor`` with PostgreSQL's own ``$n``
placeholders, converted here once. With ``%(name)s`` placeholders psycopg converts the
query on every execute, and caches the conversion only for queries of at most 4,096
bytes: the answer's upsert is about 5,000, so each answer paid for psycopg splitting it
with a regular expression again (cProfile: more than its SQL and commit together).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import cache, lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine

from toneflow.store.engine import POWER_SAFE, begin_sqlite_write


class Prepared(NamedTuple):
    """A statement compiled for one backend: its SQL, each parameter's converter, and the
    values of the literals it holds (the outcome kinds), converted once."""

    sql: str
    #: (parameter name, the column type's bind converter or None), in compiled order.
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    constants: Mapping[str, Any]
    #: With ``$n`` placeholders (PostgreSQL): the parameter names, ``$1`` first.
    numbered: tuple[str, ...] | None = None

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any] | list[Any]:
        """``values`` as the driver binds them: by name, or in ``$n`` order."""
        bound = dict(self.constants)
        for name, convert in self.binds:
            value = values[name]
            bound[name] = value if convert is None else convert(value)
        if self.numbered is None:
            return bound
        return [bound[name] for name in self.numbered]


#: psycopg's placeholders as SQLAlchemy writes them, and its escaped percent sign.
_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%")


def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """``%(name)s`` SQL as PostgreSQL's ``$n`` SQL, and the names in ``$n`` order.

    A name used twice is one ``$n`` used twice; ``%%`` (a literal ``%`` in pyformat SQL)
    becomes ``%``, as psycopg would send it.
    """
    order: dict[str, int] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return f"${order.setdefault(name, len(order) + 1)}"

    return _PYFORMAT.sub(placeholder, sql), tuple(order)


@lru_cache(maxsize=64)  # four statements per engine; bounded for processes that make many
def prepare(dialect: Dialect, statement: sa.Executable, keys: tuple[str, ...] = ()) -> Prepared:
    """Compile ``statement`` once for ``dialect``; ``keys`` names the columns an INSERT
    without values sets (the answer row's keys), as ``conn.execute(insert, row)`` would."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys) or None)
    if compiled.positional:
        raise ValueError(f"{dialect.name}: the direct writes need named parameters")
    if compiled.escaped_bind_names:  # the names must reach the driver as they are
        raise ValueError(f"parameter names need escaping: {sorted(compiled.escaped_bind_names)}")
    binds: dict[str, Callable[[Any], Any] | None] = {}
    constants: dict[str, Any] = {}
    for param, name in compiled.bind_names.items():
        convert = param.type.dialect_impl(dialect).bind_processor(dialect)
        if param.required:
            if name != param.key:
                raise ValueError(f"parameter {param.key!r} is bound as {name!r}")
            binds[name] = convert
        else:  # a literal of the statement's own
            constants[name] = (
                param.effective_value if convert is None else convert(param.effective_value)
            )
    if _numbered_cursor(dialect.driver) is not None:
        sql, order = numbered(compiled.string)
        return Prepared(sql, tuple(binds.items()), constants, order)
    return Prepared(compiled.string, tuple(binds.items()), constants)


class Transaction:
    """One write transaction on a DB-API connection: :meth:`execute` prepared statements."""

    def __init__(self, engine: Engine, cursor: Any) -> None:
        self.dialect = engine.dialect
        self.cursor = cursor
        #: The statement running (or last run), for the error raised when it fails.
        self.sql: str | None = None

    def execute(self, statement: sa.Executable, values: Mapping[str, Any]) -> int:
        """Run a statement built with its parameters (``writes.statements``); the number
        of rows it changed (as the driver counts them)."""
        return self._run(prepare(self.dialect, statement), values)

    def insert_row(self, insert: sa.Insert, row: Mapping[str, Any]) -> None:
        """Run an INSERT of a table's row: the columns are ``row``'s keys."""
        self._run(prepare(self.dialect, insert, tuple(row)), row)

    def _run(self, prepared: Prepared, values: Mapping[str, Any]) -> int:
        self.sql = prepared.sql
        self.cursor.execute(prepared.sql, prepared.parameters(values))
        return self.cursor.rowcount

    def first(self) -> Any:
        """The first column of the row the last statement returned, or None."""
        row = self.cursor.fetchone()
        return None if row is None else row[0]


class Rollback(Exception):
    """Raised inside :func:`transaction` to undo it quietly (a duplicate event)."""


@contextmanager
def transaction(engine: Engine, *, synchronous: str = POWER_SAFE) -> Iterator[Transaction]:
    """A write transaction on a pooled DB-API connection; commits when the block ends.

    ``synchronous`` is SQLite's durability level for the commit: :data:`POWER_SAFE` (an
    event) or ``CRASH_SAFE`` (an answer's record; see :mod:`toneflow.store.engine`).
    """
    dialect = engine.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        raw = engine.raw_connection()  # a failed connect raises the driver's error
    except dbapi_error as err:
        raise _wrapped(err, None, dialect, dialect.is_disconnect(err, None, None)) from err
    cursor = None
    try:
        cursor = _cursor(raw, dialect)
        work = Transaction(engine, cursor)
        try:
            if dialect.name == "sqlite":
                begin_sqlite_write(cursor.execute, raw.info, synchronous)
            yield work
            raw.commit()
        except Rollback:
            raw.rollback()
        except dbapi_error as err:
            _rollback_quietly(raw, dbapi_error)
            invalidated = dialect.is_disconnect(err, raw, cursor)
            if invalidated:
                raw.invalidate(err)
            raise _wrapped(err, work.sql, dialect, invalidated) from err
        except BaseException:
            _rollback_quietly(raw, dbapi_error)
            raise
    finally:
        if cursor is not None:
            with suppress(dbapi_error):
                cursor.close()
        raw.close()  # back to the pool (which resets it), or gone if invalidated


@cache
def _numbered_cursor(driver: str) -> type | None:
    """The cursor class that takes ``$n`` SQL as it is, for this driver; None if it has none.

    psycopg's ``RawCursor``: :func:`prepare` writes ``$n`` SQL exactly when this is one,
    so a statement and the cursor that runs it always agree.
    """
    if driver != "psycopg":
        return None
    from psycopg import RawCursor

    return RawCursor


def _cursor(raw: Any, dialect: Dialect) -> Any:
    """The connection's cursor: the numbered one where the driver has it."""
    numbered_cursor = _numbered_cursor(dialect.driver)
    if numbered_cursor is None:
        return raw.cursor()
    return numbered_cursor(raw.driver_connection)


def _wrapped(err: Exception, sql: str | None, dialect: Dialect, invalidated: bool) -> BaseException:
    """The driver's error as SQLAlchemy raises it (its message names the statement)."""
    return sa.exc.DBAPIError.instance(
        sql,
        None,
        err,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=invalidated,
        dialect=dialect,
    )


def _rollback_quietly(raw: Any, dbapi_error: type[Exception]) -> None:
    with suppress(dbapi_error):  # the connection is gone: the pool replaces it
        raw.rollback()
