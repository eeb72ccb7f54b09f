"""``toneflow users add|list|remove|password`` and ``toneflow tokens create|list|revoke``.

Who may read the call log. Every command that names a user or token that does not exist
says so and exits 2, like any other usage mistake; none prints a secret it has stored.
"""

from __future__ import annotations

import sys

import click

from toneflow.cli.store import command_store
from toneflow.store.access import (
    AccessError,
    NameTaken,
    add_user,
    create_token,
    has_user,
    list_tokens,
    list_users,
    remove_user,
    revoke_token,
    set_password,
)

PASSWORD_STDIN = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)


@click.group(help="Support staff who may sign in to /support.")
def users() -> None:
    pass


@users.command("add")
@click.argument("name")
@PASSWORD_STDIN
def add_command(name: str, password_stdin: bool) -> None:
    """Create the support user NAME; asks for a password (at least 10 characters)."""
    password = _read_password(password_stdin)
    with command_store() as (engine, _):
        try:
            add_user(engine, name, password)
        except AccessError as err:
            raise click.UsageError(str(err)) from err
    click.echo(f"user {name} added; they can sign in at /support")


@users.command("list")
def users_list_command() -> None:
    """Every support user: name, when added, and how many sessions are open."""
    with command_store() as (engine, _):
        rows = list_users(engine)
    if not rows:
        click.echo("no users (add one with: toneflow users add NAME)")
    for row in rows:
        click.echo(f"{row['name']}\tadded {_when(row['created_at'])}\t{row['sessions']} session(s)")


@users.command("remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Delete the support user NAME; their open sessions end at once."""
    with command_store() as (engine, _):
        if not remove_user(engine, name):
            raise click.UsageError(f"no user called {name!r}")
    click.echo(f"user {name} removed; their sessions have ended")


@users.command("password")
@click.argument("name")
@PASSWORD_STDIN
def password_command(name: str, password_stdin: bool) -> None:
    """Give the support user NAME a new password; their open sessions end at once."""
    with command_store() as (engine, _):
        if not has_user(engine, name):  # before asking for a password it cannot use
            raise click.UsageError(f"no user called {name!r}")
        password = _read_password(password_stdin)
        try:
            changed = set_password(engine, name, password)
        except AccessError as err:
            raise click.UsageError(str(err)) from err
        if not changed:
            raise click.UsageError(f"no user called {name!r}")
    click.echo(f"password for {name} changed; their sessions have ended")


@click.group(help="API tokens for /api (Authorization: Bearer <token>).")
def tokens() -> None:
    pass


@tokens.command("create")
@click.argument("name")
@click.option(
    "--replace",
    is_flag=True,
    help="If a token called NAME exists, revoke it and make a new one (repeatable scripts).",
)
def create_command(name: str, replace: bool) -> None:
    """Create an API token called NAME and print it; it is stored only as a hash."""
    with command_store() as (engine, _):
        try:
            click.echo(create_token(engine, name, replace=replace))
        except NameTaken as err:
            raise click.UsageError(f"{err}; --replace revokes it and makes a new one") from err
        except AccessError as err:
            raise click.UsageError(str(err)) from err


@tokens.command("list")
def tokens_list_command() -> None:
    """Every API token: name, key id (the public part) and when made; never the secret."""
    with command_store() as (engine, _):
        rows = list_tokens(engine)
    if not rows:
        click.echo("no API tokens (make one with: toneflow tokens create NAME)")
    for row in rows:
        click.echo(f"{row['name']}\tkey {row['key_id']}\tcreated {_when(row['created_at'])}")


@tokens.command("revoke")
@click.argument("name")
def revoke_command(name: str) -> None:
    """Delete the API token called NAME: requests using it get 401 from now on."""
    with command_store() as (engine, _):
        if not revoke_token(engine, name):
            raise click.UsageError(f"no API token called {name!r}")
    click.echo(f"token {name} revoked")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _when(at) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")
