"""The ``toneflow`` command: Flask's CLI group, with every toneflow command under it.

Commands that need no running app (``db``, ``lint``, ``dtmf``) read configuration
directly, so they work even when the flow set is broken — which is exactly when a flow
author needs ``lint``.
"""

from __future__ import annotations

from flask.cli import FlaskGroup

from toneflow.cli.db import db
from toneflow.cli.dtmf import dtmf
from toneflow.cli.lint import lint


def _create_app():
    from app import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, help="toneflow: YAML call flows served as answer_url.")
for command in (db, dtmf, lint):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="toneflow")
