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

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

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


def head() -> str:
    """The newest revision shipped with this package: what :func:`upgrade` reaches."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migrations found")
    return revision


def _engine(url_or_engine: str | Engine) -> tuple[Engine, bool]:
    if isinstance(url_or_engine, Engine):
        return url_or_engine, False
    return make_engine(url_or_engine), True
