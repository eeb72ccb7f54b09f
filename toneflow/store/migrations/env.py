"""Alembic environment for the call log: run revisions on the connection it is given.

``toneflow.store.migrate`` passes an open connection in
``config.attributes["connection"]`` so a migration shares the engine settings (SQLite
pragmas, immediate transactions) of the app; the ``sqlalchemy.url`` option is the
fallback for running Alembic by hand. Offline (``--sql``) mode is not supported: the
schema is always applied to a live database.
"""

from __future__ import annotations

from alembic import context

from toneflow.store.engine import make_engine
from toneflow.store.tables import metadata
from toneflow.store.types import UTCDateTime

config = context.config
target_metadata = metadata


def _render_item(type_: str, obj, autogen_context) -> str | bool:
    """Write UTCDateTime as the column type it stands for: revisions import no app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection or set sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported")
run_migrations_online()
