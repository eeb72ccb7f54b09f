"""The ``toneflow`` command: Flask's CLI group, with every toneflow command under it.

Commands that need no running app (``db``, ``lint``, ``dtmf``) read configuration
directly, so they work even when the flow set is broken — which is exactly when a flow
author needs ``lint``.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from toneflow.cli import funnel as _funnel  # noqa: F401  (adds `calls funnel`)
from toneflow.cli.access import tokens, users
from toneflow.cli.calls import calls
from toneflow.cli.db import db
from toneflow.cli.dtmf import dtmf
from toneflow.cli.flows import flows
from toneflow.cli.flowtest import flowtest
from toneflow.cli.lint import lint
from toneflow.cli.push import push
from toneflow.cli.replay import replay_command
from toneflow.cli.schema import schema
from toneflow.cli.webhooks import webhooks
from toneflow.config import ConfigError
from toneflow.store.engine import UnsupportedDatabase


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
    """

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)


cli = ToneflowGroup(
    create_app=_create_app,
    # Flask's own --version prints Python, Flask and Werkzeug; toneflow's says toneflow's.
    add_version_option=False,
    help="toneflow: YAML call flows served as answer_url.",
)
cli = click.version_option(
    package_name="toneflow", prog_name="toneflow", message="%(prog)s %(version)s"
)(cli)
for command in (
    calls, db, dtmf, flows, flowtest, lint, push, replay_command, schema, tokens, users, webhooks,
):  # fmt: skip
    cli.add_command(command)


def main() -> None:
    """The console script: a configuration refusal is its message and exit 2, as at start-up.

    ``make run`` runs ``toneflow db upgrade`` before serving, so a bad ``DATABASE_URL`` (or
    PostgreSQL's driver missing) is first met here and must read like the app's refusal.
    """
    try:
        cli(prog_name="toneflow")
    except (ConfigError, UnsupportedDatabase) as err:
        click.echo(f"toneflow: {err}", err=True)
        raise SystemExit(2) from None
