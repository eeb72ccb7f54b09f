"""Build the one SQLAlchemy engine the call log uses, tuned per backend.

The store promises that an event is acknowledged only once it is durable, and that
concurrent writers (threads, or gunicorn workers sharing a SQLite file) neither lose
data nor fail with "database is locked". Both promises depend on connection settings
rather than on the queries, so they live here, in one place:

* SQLite: WAL (readers never block the writer), ``synchronous=FULL`` by default (a
  commit is on disk before it returns: an acknowledged event survives power loss), a
  2 s busy timeout (``TONEFLOW_SQLITE_BUSY_TIMEOUT_MS``),
  foreign keys on, and SQLAlchemy rather than the ``sqlite3`` module deciding when a
  transaction begins. Write transactions start with ``BEGIN IMMEDIATE``, so a writer
  takes the write lock up front and waits for it under the busy timeout, instead of
  failing at once when a read lock cannot be upgraded. Reads (see :func:`reading`)
  start with a plain deferred ``BEGIN``. A write that need only survive a crash of the
  process (an answer's record, :mod:`toneflow.store.direct`) runs with ``synchronous=NORMAL``:
  in WAL mode its commit is in the operating system's hands when it returns, with no
  ``fsync``; the next FULL commit on the file syncs it with its own.
* PostgreSQL (psycopg 3): ``pool_pre_ping`` so a connection dropped by the server or a
  failover is replaced instead of failing a request.

Creating the engine never connects: gunicorn forks workers after the app is built, and
connections must not be shared across a fork.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine

#: How long a SQLite write waits for another writer's lock. Short on purpose: an answer
#: must reach the platform within its ~5 s budget (gunicorn kills a worker at 4 s), so
#: a write that cannot get the lock soon fails fast; the answer is served anyway and an
#: event gets 503 + Retry-After, so the platform retries it.
SQLITE_BUSY_TIMEOUT_MS = 2000

# Connection execution option that marks a read-only unit of work (see ``reading``).
_READ_ONLY = "toneflow_read_only"
# Where a SQLite connection keeps the ``synchronous`` level it is set to (its pool info).
_SYNCHRONOUS_NOW = "toneflow_synchronous_now"
#: A commit on disk before it returns (survives power loss): every write by default.
POWER_SAFE = "FULL"
#: A commit the OS holds when it returns (survives the process being killed, not power loss).
CRASH_SAFE = "NORMAL"


class UnsupportedDatabase(ValueError):
    """A database URL toneflow cannot use: start-up refuses it, naming the scheme."""


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL, mapping bare PostgreSQL schemes to the psycopg 3 driver.

    ``postgres://`` (Heroku style) and ``postgresql://`` would otherwise pick psycopg2,
    which is not a dependency.
    """
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """Create the call log engine for a SQLite or PostgreSQL URL, without connecting."""
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _make_sqlite_engine(parsed, busy_timeout_ms)
    if backend == "postgresql":
        return _make_postgresql_engine(parsed)
    raise UnsupportedDatabase(
        f"unsupported database URL scheme {parsed.drivername!r}: use sqlite or postgresql"
    )


#: What to run when DATABASE_URL names PostgreSQL and its driver is not installed.
POSTGRES_EXTRA = "pip install 'toneflow[postgres]'"


def _make_postgresql_engine(url: URL) -> Engine:
    """PostgreSQL's engine; without its driver (an extra), a refusal saying how to add it.

    SQLAlchemy imports the driver when the engine is created, so a missing one surfaces
    here, at start-up, rather than at the first request.
    """
    try:
        # A stopped server must fail a request quickly, not hang it past the answer budget.
        return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 2})
    except ModuleNotFoundError as err:
        raise UnsupportedDatabase(
            f"DATABASE_URL names PostgreSQL ({url.drivername}) but its driver "
            f"{err.name!r} is not installed: {POSTGRES_EXTRA}"
        ) from None


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for a consistent read: one snapshot, and no SQLite write lock.

    On SQLite the transaction starts with a deferred ``BEGIN`` (a WAL snapshot taken at
    the first SELECT); on PostgreSQL it runs at REPEATABLE READ, so several SELECTs that
    make up one record see the same committed state.
    """
    with engine.connect() as conn:
        options: dict[str, object] = {_READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        conn.execution_options(**options)
        with conn.begin():
            yield conn


def _make_sqlite_engine(url: URL, busy_timeout_ms: int) -> Engine:
    if url.get_driver_name() != "pysqlite":
        raise UnsupportedDatabase(
            f"unsupported SQLite driver {url.drivername!r}: use sqlite:///path"
        )
    _create_parent_folder(url)
    # Named parameters (``:v_call_id``), which sqlite3 supports natively, rather than the
    # driver's default ``?``: the call row's upsert names each value several times (in its
    # VALUES, its SET and its outcome), and positionally every occurrence was one more
    # parameter to build and convert on every write (77 of them for 29 values).
    engine = sa.create_engine(url, paramstyle="named")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _connection_record) -> None:
        # Documented pysqlite recipe: stop the sqlite3 module from issuing BEGIN itself,
        # so the "begin" listener below decides how every transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL may have to wait for another connection.
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.fetchall()
            cursor.execute(f"PRAGMA synchronous = {POWER_SAFE}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()
        _connection_record.info[_SYNCHRONOUS_NOW] = POWER_SAFE

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        # Every write through SQLAlchemy is power-safe; the answer's is store.direct's.
        begin_sqlite_write(conn.exec_driver_sql, conn.connection.info, POWER_SAFE)

    return engine


def begin_sqlite_write(
    execute: Callable[[str], object], info: dict[str, object], synchronous: str
) -> None:
    """Begin a SQLite write transaction whose commit has durability ``synchronous``.

    The level is set outside any transaction, before BEGIN, and only when it changes
    (``info`` is the pooled connection's, remembering its level). ``execute`` runs one
    SQL text: the engine's ``begin`` listener passes SQLAlchemy's, the direct writes
    (:mod:`toneflow.store.direct`) the DB-API cursor's.
    """
    if info.get(_SYNCHRONOUS_NOW) != synchronous:
        execute(f"PRAGMA synchronous = {synchronous}")
        info[_SYNCHRONOUS_NOW] = synchronous
    execute("BEGIN IMMEDIATE")


def _create_parent_folder(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)
