"""Apply and inspect the call log schema with Alembic, from code, with no alembic.ini.

The app, the CLI and the tests all migrate through these functions, so there is one
way a database gets its schema. The Alembic config is built here and points at the
``migrations`` folder inside this package, which is installed with it.

A migration runs in one transaction on an engine made by :func:`make_engine` (so SQLite
gets its pragmas and an immediate transaction, which also makes concurrent upgrades of
one file wait for each other). On PostgreSQL a transaction-scoped advisory lock does
the same, so several app servers starting at once apply a revision only once.
"""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from toneflow.store.engine import make_engine, reading

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Arbitrary constant naming the advisory lock that serialises migrations (b"toneflow").
_PG_MIGRATION_LOCK = 0x746F6E65666C6F77


def alembic_config() -> Config:
    """An Alembic config for this package's migrations, built in code."""
    config = Config()
    # ConfigParser interpolates "%", so a path holding one must be escaped.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


#: What :func:`schema_state` says about a reachable store.
CURRENT, BEHIND, UNKNOWN = "current", "behind", "unknown"
UPGRADE_HINT = "run `toneflow db upgrade` (the Procfile's release: line does)"


class StoreNotMigrated(Exception):
    """The store answers but its schema is not the one this toneflow writes: refuse to start."""

    def __init__(self, revision: str | None, state: str) -> None:
        self.revision, self.state = revision, state
        if state == UNKNOWN:
            message = (
                f"the database is at schema revision {revision!r}, which this toneflow does "
                f"not know (a newer toneflow migrated it?); expected {head()!r}"
            )
        elif revision is None:
            message = f"the database has never been migrated: {UPGRADE_HINT}"
        else:
            message = (
                f"the database is at schema revision {revision!r}, behind {head()!r}: "
                f"{UPGRADE_HINT}"
            )
        super().__init__(message)


def schema_state(connection: Connection) -> tuple[str, str | None]:
    """Whether the store's schema is this package's newest, behind it, or unknown to it.

    Returns the state and the revision found (None: never migrated).
    """
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision == head():
        return CURRENT, revision
    if revision is None or revision in _known_revisions():
        return BEHIND, revision
    return UNKNOWN, revision


def check(engine: Engine) -> None:
    """Raise :class:`StoreNotMigrated` unless the store is at :func:`head`.

    A store that cannot be reached raises SQLAlchemy's error: the caller decides whether
    that stops anything (start-up does not: answers are served without a store).
    """
    with reading(engine) as connection:
        state, revision = schema_state(connection)
    if state != CURRENT:
        raise StoreNotMigrated(revision, state)


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (default: the newest), in one transaction.

    Given a URL, the engine it makes is disposed of before returning, so this is safe
    to call before gunicorn forks. Given an engine, its pool keeps the connection used.
    """
    engine, owned = _engine(url_or_engine)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if owned:
            engine.dispose()


def current(url_or_engine: str | Engine) -> str | None:
    """The revision the database is at, or None if it has never been migrated."""
    engine, owned = _engine(url_or_engine)
    try:
        with reading(engine) as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


@functools.cache
def head() -> str:
    """The newest revision shipped with this package: what :func:`upgrade` reaches.

    Cached: the migration files are read once per process, not per health check.
    """
    revision = _scripts().get_current_head()
    if revision is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migrations found")
    return revision


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _engine(url_or_engine: str | Engine) -> tuple[Engine, bool]:
    if isinstance(url_or_engine, Engine):
        return url_or_engine, False
    return make_engine(url_or_engine), True
