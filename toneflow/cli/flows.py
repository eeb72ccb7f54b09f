"""``toneflow flows history|show|diff``: the flow versions the store keeps.

Every version any server loaded is stored with its exact source (docs/versions.md), so
what served a call months ago can be read, and compared with what serves now.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from toneflow.cli.store import command_store
from toneflow.present import visible
from toneflow.store.versions import get_version, list_versions

HISTORY_COLUMNS = ("version", "first loaded", "by", "first served", "last served", "calls")


@click.group("flows")
def flows() -> None:
    """Flow versions: each one's history, source and differences."""


@contextmanager
def store_or_exit() -> Iterator[Engine]:
    """The configured store; a store that cannot be read is a message, exit 2."""
    try:
        with command_store() as (engine, _config):
            yield engine
    except SQLAlchemyError as err:
        click.echo(f"toneflow: the store cannot be read: {err.__class__.__name__}", err=True)
        raise SystemExit(2) from None


def _when(value: Any) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


@flows.command("history")
@click.argument("flow")
def history(flow: str) -> None:
    """Every version of FLOW: first loaded (and by which server), first and last served,
    how many calls it served; oldest first."""
    with store_or_exit() as engine:
        versions = list_versions(engine, flow)
    if not versions:
        _missing(f"no versions of a flow named '{visible(flow)}' are stored")
    rows = [
        (
            row["version"],
            _when(row["first_loaded_at"]),
            visible(row["first_loaded_by"]),
            _when(row["first_served"]),
            _when(row["last_served"]),
            str(row["calls"]),
        )
        for row in versions
    ]
    widths = [max(len(r[i]) for r in (HISTORY_COLUMNS, *rows)) for i in range(len(HISTORY_COLUMNS))]
    click.echo(f"{visible(flow)}: {len(rows)} version(s), times in UTC")
    for row in (HISTORY_COLUMNS, *rows):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _source(engine: Engine, flow: str, version: str) -> str:
    row = get_version(engine, flow, version)
    if row is None:
        _missing(f"no version '{visible(version)}' of flow '{visible(flow)}' is stored")
    return row["source"]


def _missing(message: str) -> NoReturn:
    click.echo(f"toneflow: {message} (see `toneflow flows history FLOW`)", err=True)
    raise SystemExit(1)


@flows.command("show")
@click.argument("flow_at_version", metavar="FLOW@VERSION")
def show(flow_at_version: str) -> None:
    """Print the exact source of one version (hidden characters escaped on a terminal)."""
    flow, at, version = flow_at_version.partition("@")
    if not at or not flow or not version:
        raise click.UsageError("give FLOW@VERSION, e.g. appointment@91942b223588")
    with store_or_exit() as engine:
        source = _source(engine, flow, version)
    click.echo(visible(source, lines=True) if sys.stdout.isatty() else source, nl=False)


@flows.command("diff")
@click.argument("flow")
@click.argument("old")
@click.argument("new")
def diff(flow: str, old: str, new: str) -> None:
    """A unified diff of FLOW from version OLD to NEW; exit 1 when they differ (as diff)."""
    with store_or_exit() as engine:
        before, after = _source(engine, flow, old), _source(engine, flow, new)
    lines = list(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"{flow}@{old}",
            tofile=f"{flow}@{new}",
        )
    )
    for line in lines:
        text = line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        click.echo(visible(text, lines=True), nl=False)
    raise SystemExit(1 if lines else 0)
