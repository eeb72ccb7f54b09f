"""``toneflow calls list|show|export|prune``: the call log in a terminal.

Filters are validated by the same schema as ``GET /api/calls``, and ``show`` says the
outcome in the same words as the support page (:mod:`toneflow.present`).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import click
from marshmallow import ValidationError

from schemas.calls import CallListArgsSchema
from toneflow.cli.store import command_store
from toneflow.present import outcome_words, timeline
from toneflow.store import InvalidCursor, count_calls, get_call, iter_records, list_calls, prune
from toneflow.web.errors import describe_validation

LIST_ARGS = CallListArgsSchema()
CSV_COLUMNS = (
    "call_id", "first_seen", "last_seen", "completed_at", "status", "direction", "from", "to",
    "flow", "dialect", "last_step", "outcome", "outcome_step", "outcome_reason",
)  # fmt: skip
#: OWASP's list: cells starting so are formulas to Excel and LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DURATION = re.compile(r"^(\d+)([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def _filters(**options: Any) -> dict[str, Any]:
    """The list filters given on the command line, validated as the API validates them."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        return LIST_ARGS.load(given)
    except ValidationError as err:
        raise click.UsageError(describe_validation(err)) from err


def filter_options(command):
    """The list filters, as options, shared by ``list`` and ``export``."""
    for name, help_text in reversed(
        (
            ("status", "final or latest status, e.g. completed"),
            ("outcome", "finished, abandoned, fell_back, failed, in_progress, never_answered"),
            ("flow", "flow name"),
            ("last-step", "last step served"),
            ("since", "first seen at or after (ISO 8601, e.g. 2026-05-29 or 2026-05-29T12:00Z)"),
            ("until", "first seen before (ISO 8601)"),
            ("q", "a call id or a from/to number, exactly"),
        )
    ):
        command = click.option(f"--{name}", help=help_text)(command)
    return command


@click.group(help="Find, read, export and prune the call log.")
def calls() -> None:
    pass


@calls.command("list")
@filter_options
@click.option("--limit", default=20, show_default=True, help="calls per page (1-500)")
@click.option("--cursor", help="the cursor printed after the previous page")
def list_command(limit: int, cursor: str | None, **options: Any) -> None:
    """Calls, newest first: time, id, numbers, flow, outcome and last step."""
    args = _filters(limit=limit, cursor=cursor, **options)
    with command_store() as (engine, config):
        try:
            page = list_calls(
                engine,
                args["filters"],
                limit=args["limit"],
                cursor=args["cursor"],
                redact_numbers=config["REDACT_NUMBERS"],
            )
        except InvalidCursor as err:
            raise click.UsageError(f"cursor: {err}") from err
    if not page.calls:
        click.echo("no calls match")
        return
    for row in page.calls:
        outcome = row["outcome"]
        click.echo(
            "  ".join(
                [
                    row["first_seen"],
                    row["call_id"],
                    f"{row['from'] or '-'} -> {row['to'] or '-'}",
                    row["flow"] or "-",
                    outcome["kind"] + (f" at {outcome['step']}" if outcome["step"] else ""),
                    f"last step {row['last_step'] or '-'}",
                ]
            )
        )
    if page.next_cursor:
        click.echo(f"more: --cursor {page.next_cursor}")


@calls.command("show")
@click.argument("call_id")
def show_command(call_id: str) -> None:
    """One call: the outcome in words, then every answer and event in time order."""
    with command_store() as (engine, config):
        record = get_call(engine, call_id, redact_numbers=config["REDACT_NUMBERS"])
    if record is None:
        raise click.ClickException(f"no call with id '{call_id}'")
    click.echo(f"Call {record['call_id']}: {outcome_words(record['outcome'])}")
    for label, key in (
        ("flow", "flow"), ("dialect", "dialect"), ("status", "status"),
        ("from", "from"), ("to", "to"), ("direction", "direction"),
        ("first seen", "first_seen"), ("last seen", "last_seen"),
        ("completed", "completed_at"), ("last step", "last_step"),
    ):  # fmt: skip
        click.echo(f"  {label + ':':<12}{record[key] or '-'}")
    for entry in timeline(record):
        click.echo("")
        if entry["kind"] == "answer":
            heading = (
                f"{entry['time']}  ANSWER {entry['status']}  {entry['flow']}/{entry['step']}"
                f"  ({entry['dialect']}, flow version {entry['flow_version']},"
                f" {entry['duration_ms']} ms)"
            )
            if entry["fallback_from"]:
                heading += (
                    f"\n  !! FALLBACK from {entry['fallback_from']}: {entry['fallback_reason']}"
                )
            if entry["error_reason"]:
                heading += f"\n  !! ERROR: {entry['error_reason']}"
        else:
            heading = (
                f"{entry['time']}  EVENT {entry['event']}"
                f"  (received {entry['received_at']}, webhook-id {entry['webhook_id'] or '-'})"
            )
        click.echo(heading)
        click.echo(_indent(entry["pretty"]))


@calls.command("export")
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default="jsonl",
    show_default=True,
    help="csv: one summary row per call; jsonl: full records",
)
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="file to write (default: standard output)",
)
def export_command(fmt: str, output: TextIO, **options: Any) -> None:
    """Every matching call, newest first, with a progress bar on the terminal."""
    filters = _filters(**options)["filters"]
    with command_store() as (engine, config):
        total = count_calls(engine, filters)
        records = iter_records(engine, filters, redact_numbers=config["REDACT_NUMBERS"])
        write = _csv_writer(output) if fmt == "csv" else _jsonl_writer(output)
        with click.progressbar(
            records, length=total, label=f"exporting {total} call(s)", file=sys.stderr
        ) as bar:
            for record in bar:
                write(record)
    click.echo(f"exported {total} call(s)", err=True)


@calls.command("prune")
@click.option("--older-than", required=True, help="age of last activity, e.g. 30d, 12h, 90m")
def prune_command(older_than: str) -> None:
    """Delete calls (with their timelines) last seen longer ago than --older-than."""
    match = DURATION.match(older_than)
    if match is None or int(match.group(1)) == 0:
        raise click.UsageError("--older-than: give a positive number and d, h or m, e.g. 30d")
    cutoff = datetime.now(UTC) - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    with command_store() as (engine, _):
        deleted = prune(engine, cutoff)
    click.echo(f"pruned {deleted} call(s) last seen before {cutoff.isoformat(timespec='seconds')}")


def _csv_writer(output: TextIO):
    writer = csv.DictWriter(output, CSV_COLUMNS)
    writer.writeheader()

    def write(record: dict[str, Any]) -> None:
        outcome = record["outcome"]
        row = {column: record.get(column) for column in CSV_COLUMNS}
        row.update(
            outcome=outcome["kind"], outcome_step=outcome["step"], outcome_reason=outcome["reason"]
        )
        writer.writerow({column: _cell(value) for column, value in row.items()})

    return write


def _cell(value: Any) -> Any:
    """A caller-controlled text that a spreadsheet would run as a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _jsonl_writer(output: TextIO):
    def write(record: dict[str, Any]) -> None:
        output.write(json.dumps(record, ensure_ascii=False) + "\n")

    return write


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
