"""``toneflow users add`` and ``toneflow tokens create|revoke``: who may read the call log."""

from __future__ import annotations

import sys

import click

from toneflow.cli.store import command_store
from toneflow.store.access import AccessError, add_user, create_token, revoke_token


@click.group(help="Support staff who may sign in to /support.")
def users() -> None:
    pass


@users.command("add")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
def add_command(name: str, password_stdin: bool) -> None:
    """Create the support user NAME; asks for a password (at least 10 characters)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with command_store() as (engine, _):
        try:
            add_user(engine, name, password)
        except AccessError as err:
            raise click.UsageError(str(err)) from err
    click.echo(f"user {name} added; they can sign in at /support")


@click.group(help="API tokens for /api (Authorization: Bearer <token>).")
def tokens() -> None:
    pass


@tokens.command("create")
@click.argument("name")
def create_command(name: str) -> None:
    """Create an API token called NAME and print it; it is stored only as a hash."""
    with command_store() as (engine, _):
        try:
            click.echo(create_token(engine, name))
        except AccessError as err:
            raise click.UsageError(str(err)) from err


@tokens.command("revoke")
@click.argument("name")
def revoke_command(name: str) -> None:
    """Delete the API token called NAME: requests using it get 401 from now on."""
    with command_store() as (engine, _):
        if not revoke_token(engine, name):
            raise click.UsageError(f"no API token called {name!r}")
    click.echo(f"token {name} revoked")
