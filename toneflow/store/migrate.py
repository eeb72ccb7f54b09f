"""Apply and inspect the call log schema with Alembic, from code, with no alembic.ini.

The app, the CLI and the tests all migrate through these functions, so there is one
way a database gets its schema. The Alembic config is built here and points at the
``migrations`` folder inside this package, which is installed with it.

A migration runs in one transaction on an engine made by :func:`make_engine` (so SQLite
gets its pragmas and an immediate transaction, which also makes concurrent upgrades of
one file wait for each other). On PostgreSQL a transaction-scoped advisory lock does
the same, so several app servers starting at once apply a revision only once.

Alembic is imported only to migrate (:func:`upgrade`, ``toneflow db upgrade``): the app's
start-up check and ``/healthz`` read the stored revision with one SELECT and know the
shipped ones from the migration files themselves (:func:`shipped_revisions`). Importing
Alembic loads about 125 modules (its DDL support for every SQLAlchemy dialect), about
9.6 MB that gunicorn's master would otherwise hand to every worker it forks.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from toneflow.store.engine import make_engine, reading

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
#: The table where Alembic keeps the revision a database is at.
VERSION_TABLE = "alembic_version"

# Arbitrary constant naming the advisory lock that serialises migrations (b"toneflow").
_PG_MIGRATION_LOCK = 0x746F6E65666C6F77


def alembic_config() -> Config:
    """An Alembic config for this package's migrations, built in code."""
    from alembic.config import Config

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
    revision = stored_revision(connection)
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
            from alembic import command

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
            return stored_revision(connection)
    finally:
        if owned:
            engine.dispose()


def stored_revision(connection: Connection) -> str | None:
    """The revision the database is at (Alembic's version table), None if never migrated."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if len(rows) > 1:
        raise RuntimeError(f"the database is at several revisions: {sorted(r[0] for r in rows)}")
    return rows[0][0] if rows else None


@functools.cache
def head() -> str:
    """The newest revision shipped with this package: what :func:`upgrade` reaches.

    Cached: the migration files are read once per process, not per health check.
    """
    revisions = shipped_revisions()
    revised = {down for downs in revisions.values() for down in downs}
    heads = sorted(set(revisions) - revised)
    if len(heads) != 1:  # pragma: no cover - the package ships one chain
        raise RuntimeError(f"the migrations must have one head, not {heads or 'none'}")
    return heads[0]


@functools.cache
def shipped_revisions() -> dict[str, tuple[str, ...]]:
    """Each migration shipped (``versions/*.py``) -> the revisions it revises.

    Read from each file's ``revision`` and ``down_revision`` assignments, as Alembic reads
    them, without importing Alembic (tests/test_store_engine.py checks both agree).
    """
    revisions: dict[str, tuple[str, ...]] = {}
    for path in sorted(VERSIONS_DIR.glob("*.py")):
        values = _assignments(path, ("revision", "down_revision"))
        down = values.get("down_revision")
        downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        revisions[values["revision"]] = downs
    return revisions


def _known_revisions() -> frozenset[str]:
    return frozenset(shipped_revisions())


def _assignments(path: Path, names: tuple[str, ...]) -> dict[str, object]:
    """The literal values ``names`` are assigned at the top of a Python file."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            for target in targets:
                if isinstance(target, ast.Name) and target.id in names and node.value:
                    values[target.id] = ast.literal_eval(node.value)
    return values


def _engine(url_or_engine: str | Engine) -> tuple[Engine, bool]:
    if isinstance(url_or_engine, Engine):
        return url_or_engine, False
    return make_engine(url_or_engine), True
