"""The ``toneflow`` command: Flask's CLI group, with every toneflow command under it.

Commands that need no running app (``db``, ``lint``, ``dtmf``) read configuration
directly, so they work even when the flow set is broken — which is exactly when a flow
author needs ``lint``.
"""

from __future__ import annotations

import importlib
import sys

import click
from flask.cli import FlaskGroup

from toneflow.config import ConfigError

#: Each command's name and where it is defined. A command's module is imported only when
#: that command runs (or ``--help`` lists it), so ``toneflow lint`` does not first import
#: SQLAlchemy, httpx and every other command's dependencies (about 0.6 s of its CPU).
COMMANDS = {
    # toneflow.cli.funnel adds `calls funnel` to the calls group it imports.
    "calls": "toneflow.cli.funnel:calls",
    "db": "toneflow.cli.db:db",
    "dtmf": "toneflow.cli.dtmf:dtmf",
    "flows": "toneflow.cli.flows:flows",
    "lint": "toneflow.cli.lint:lint",
    "push": "toneflow.cli.push:push",
    "replay": "toneflow.cli.replay:replay_command",
    "schema": "toneflow.cli.schema:schema",
    "test": "toneflow.cli.flowtest:flowtest",
    "tokens": "toneflow.cli.access:tokens",
    "users": "toneflow.cli.access:users",
    "webhooks": "toneflow.cli.webhooks:webhooks",
}


def _create_app():
    """The app for ``toneflow run``/``shell``/``routes``: a refusal is its message, exit 2."""
    from app import REFUSALS, create_app, refusal_text

    try:
        return create_app()
    except REFUSALS as err:
        click.echo(refusal_text(err), err=True)
        raise SystemExit(2) from None


class ToneflowGroup(FlaskGroup):
    """Flask's group, minus building the app just to list or find a command.

    Flask builds the app to look for commands registered on ``app.cli``; toneflow
    registers all of its commands here, so doing that would only make ``toneflow --help``
    create the database folder, compile every flow, and print a traceback when a flow is
    broken. Commands that need the app (``run``, ``shell``, ``routes``) still build it.

    Its commands are :data:`COMMANDS`, each imported when asked for; Flask's own
    (``run``, ``shell``, ``routes``) are added to the group as usual.
    """

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return click.Group.get_command(self, ctx, name)
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*click.Group.list_commands(self, ctx), *COMMANDS})


cli = ToneflowGroup(
    create_app=_create_app,
    # Flask's own --version prints Python, Flask and Werkzeug; toneflow's says toneflow's.
    add_version_option=False,
    help="toneflow: YAML call flows served as answer_url.",
)
cli = click.version_option(
    package_name="toneflow", prog_name="toneflow", message="%(prog)s %(version)s"
)(cli)


def main() -> None:
    """The console script: a configuration refusal is its message and exit 2, as at start-up.

    ``make run`` runs ``toneflow db upgrade`` before serving, so a bad ``DATABASE_URL`` (or
    PostgreSQL's driver missing) is first met here and must read like the app's refusal.
    """
    try:
        cli(prog_name="toneflow")
    except ValueError as err:
        if not _refused_setting(err):
            raise
        click.echo(f"toneflow: {err}", err=True)
        raise SystemExit(2) from None


def _refused_setting(err: ValueError) -> bool:
    """A bad setting, or a DATABASE_URL toneflow cannot use. The store's refusal is only
    raised once the store is imported, so it is looked up there, not imported for it
    (that would load SQLAlchemy for every command)."""
    engine = sys.modules.get("toneflow.store.engine")
    return isinstance(err, ConfigError) or (
        engine is not None and isinstance(err, engine.UnsupportedDatabase)
    )
