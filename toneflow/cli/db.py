"""``toneflow db``: database migrations (Alembic), run by ``make run`` and Procfile's release."""

from __future__ import annotations

import click

from toneflow.config import load_config
from toneflow.store import migrate


@click.group(help="Manage the call log database.")
def db() -> None:
    pass


@db.command(help="Apply every migration up to the newest (safe to run repeatedly).")
def upgrade() -> None:
    url = load_config()["DATABASE_URL"]
    migrate.upgrade(url)
    click.echo(f"database is at revision {migrate.current(url)}")


@db.command(help="Print the database's current migration revision.")
def current() -> None:
    click.echo(migrate.current(load_config()["DATABASE_URL"]) or "(empty database)")
