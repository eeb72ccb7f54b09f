"""``toneflow calls list|show|export|prune``: the call log in a terminal.

Filters are validated by the same schema as ``GET /api/calls``, and ``show`` says the
outcome in the same words as the support page (:mod:`toneflow.present`). Text from a
call reaches the terminal only through :func:`~toneflow.present.visible`: an ESC in a
call id is printed as ``\x1b``, never sent to the terminal.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click
from marshmallow import ValidationError

from schemas.calls import CALL_PAGE, CALL_RECORD, CallListArgsSchema
from schemas.errors import describe_validation
from toneflow.cli.push import push_lines
from toneflow.cli.store import command_call_log
from toneflow.dtmf.heard import UnreadableBody, compare, served_sends
from toneflow.dtmf.wire import DEFAULT_GAP_MS, DEFAULT_TONE_MS, WireTiming
from toneflow.export import csv_writer
from toneflow.present import clock, delta, outcome_words, push_summary, timeline, visible
from toneflow.store import InvalidCursor

LIST_ARGS = CallListArgsSchema()
DURATION = re.compile(r"^(\d+)([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def age_cutoff(age: str, option: str) -> datetime:
    """``30d``, ``12h``, ``90m`` ago, as an instant (``prune --older-than``, ``replay --since``)."""
    match = DURATION.match(age)
    if match is None or int(match.group(1)) == 0:
        raise click.UsageError(f"{option}: give a positive number and d, h or m, e.g. 30d")
    try:
        return datetime.now(UTC) - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError as err:
        raise click.UsageError(
            f"{option}: {age} reaches back past the year 1; give a shorter age"
        ) from err


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
    with command_call_log() as call_log:
        try:
            page = CALL_PAGE.dump(
                call_log.list(args["filters"], limit=args["limit"], cursor=args["cursor"])
            )
        except InvalidCursor as err:
            raise click.UsageError(f"cursor: {err}") from err
    if not page["calls"]:
        click.echo("no calls match")
        return
    for row in page["calls"]:
        shown = _shown(row)
        outcome = row["outcome"]
        step = f" at {visible(outcome['step'])}" if outcome["step"] else ""
        click.echo(
            "  ".join(
                [
                    shown["first_seen"],
                    shown["call_id"],
                    f"{shown['from']} -> {shown['to']}",
                    shown["flow"],
                    outcome["kind"] + step,
                    f"last step {shown['last_step']}",
                ]
            )
        )
    if page["next_cursor"]:
        click.echo(f"more: --cursor {page['next_cursor']}")


@calls.command("show")
@click.argument("call_id")
@click.option(
    "--json", "as_json", is_flag=True, help="print the record as the API serves it (one line)"
)
def show_command(call_id: str, as_json: bool) -> None:
    """One call: the outcome in words, then every answer and event in time order."""
    with command_call_log() as call_log:
        stored = call_log.get(call_id)
    if stored is None:
        raise click.ClickException(f"no call with id '{visible(call_id)}'")
    record = CALL_RECORD.dump(stored)
    if as_json:
        _jsonl_writer(sys.stdout)(record)  # click.get_text_stream is deprecated (8.5)
        return
    shown = _shown(record)
    click.echo(f"Call {shown['call_id']}: {visible(outcome_words(record['outcome']))}")
    for label, key in (
        ("flow", "flow"), ("dialect", "dialect"), ("status", "status"),
        ("from", "from"), ("to", "to"), ("direction", "direction"),
        ("first seen", "first_seen"), ("last seen", "last_seen"),
        ("completed", "completed_at"), ("last step", "last_step"),
        ("duration", "duration_s"), ("hangup", "hangup_cause"),
        ("version", "flow_version"),
    ):  # fmt: skip
        click.echo(f"  {label + ':':<12}{shown[key]}")
    for entry in timeline(record):
        click.echo("")
        click.echo(_heading(entry))
        if entry["kind"] == "push":
            click.echo(_indent(push_lines(entry)))
            continue
        json_body = entry["kind"] == "event" or entry["body_is_json"]
        click.echo(_indent(visible(entry["pretty"], lines=True, json_text=json_body)))


def _heading(entry: dict[str, Any]) -> str:
    """A timeline entry's first line(s): what it was, when, and any fallback or error."""
    shown = _shown(entry)
    when = f"{clock(entry['time'])} {delta(entry['delta_ms']):>9}"
    if entry["kind"] == "push":
        return f"{when}  PUSH {visible(push_summary(entry))}"
    if entry["kind"] == "event":
        return (
            f"{when}  EVENT {shown['event']}"
            f"  (platform created_at {clock(entry['created_at'])},"
            f" webhook-id {shown['webhook_id']})"
        )
    heading = (
        f"{when}  ANSWER {shown['status']}  {shown['flow']}/{shown['step']}"
        f"  ({shown['dialect']}, flow version {shown['flow_version']},"
        f" {shown['duration_ms']} ms)"
    )
    if entry["keys"] is not None:
        heading += f"\n  caller pressed: {visible(entry['keys']) or '(nothing)'}"
    for words in entry["decided"]:
        heading += f"\n  switch {visible(words)}"
    if entry["fallback_from"]:
        heading += f"\n  !! FALLBACK from {shown['fallback_from']}: {shown['fallback_reason']}"
    if entry["error_reason"]:
        heading += f"\n  !! ERROR: {shown['error_reason']}"
    if entry["silence_s"] is not None:
        heading += f"\n  .. no answer for {entry['silence_s']} s"
    return heading


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
    with command_call_log() as call_log:
        total = call_log.count(filters)
        records = call_log.export(filters)
        write = csv_writer(output) if fmt == "csv" else _jsonl_writer(output)
        with click.progressbar(
            records, length=total, label=f"exporting {total} call(s)", file=sys.stderr
        ) as bar:
            for record in bar:
                write(CALL_RECORD.dump(record))
    click.echo(f"exported {total} call(s)", err=True)


@calls.command("prune")
@click.option("--older-than", required=True, help="age of last activity, e.g. 30d, 12h, 90m")
def prune_command(older_than: str) -> None:
    """Delete calls (with their timelines) last seen longer ago than --older-than."""
    cutoff = age_cutoff(older_than, "--older-than")
    with command_call_log() as call_log:
        deleted = call_log.prune(cutoff)
    click.echo(f"pruned {deleted} call(s) last seen before {cutoff.isoformat(timespec='seconds')}")


@calls.command("verify")
@click.argument("call_id")
@click.argument("recording", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tone-ms", type=click.IntRange(min=1), default=DEFAULT_TONE_MS, show_default=True)
@click.option("--gap-ms", type=click.IntRange(min=0), default=DEFAULT_GAP_MS, show_default=True)
@click.option("--attach", is_flag=True, help="store the result on the call's timeline")
def verify_command(call_id: str, recording: Path, tone_ms: int, gap_ms: int, attach: bool) -> None:
    """Decode RECORDING (a WAV of the call) and line the keys heard up against every
    send_digits toneflow served on CALL_ID, in order.

    Each send is anchored at its first key heard; the keys after it must come within
    20 ms of its wire plan (--tone-ms/--gap-ms: the platform's, 100/100 by default).
    Exit 0 when they match, 1 when they differ, 2 for an unknown call or unreadable file.
    """
    with command_call_log() as call_log:
        stored = call_log.get(call_id)
        if stored is None:
            _give_up(f"no call with id '{visible(call_id)}'")
        try:
            sends = served_sends(stored["answers"], WireTiming(tone_ms, gap_ms))
        except UnreadableBody as err:
            _give_up(visible(str(err)))
        result = compare(sends, _heard(recording))
        if attach:
            call_log.record_verification(
                call_id,
                recording=recording.name,
                served=result.served,
                heard=result.heard,
                difference=result.difference,
                at=datetime.now(UTC),
            )
        summary = call_log.masked_text(call_id, result.summary)
    _report(summary, result.matched, attach)


def _heard(recording: Path) -> list[tuple[str, int, int]]:
    """The keys heard in a WAV file; numpy is loaded only here, by this command."""
    from toneflow.dtmf import audio, decode

    try:
        heard = decode.decode(audio.read_wav(recording))
    except (OSError, audio.AudioError) as err:
        _give_up(f"cannot read the recording: {visible(str(err))}")
    return [(key.key, key.start_ms, key.end_ms) for key in heard]


def _report(summary: str, matched: bool, attached: bool) -> None:
    click.echo(visible(summary))
    if attached:
        click.echo("attached to the call's timeline", err=True)
    if not matched:
        raise click.exceptions.Exit(1)


def _give_up(message: str) -> NoReturn:
    """A call or file the command cannot work with: say so, exit 2 (not a mismatch)."""
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(2)


def _jsonl_writer(output: TextIO):
    def write(record: dict[str, Any]) -> None:
        # Still JSON of the same record, with no control or bidi character left raw.
        output.write(visible(json.dumps(record, ensure_ascii=False), json_text=True) + "\n")

    return write


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    """Each text of a row or entry made visible; empty ones (None, "") as "-"."""
    return {
        key: (visible(value) if value else "-") if isinstance(value, str | None) else value
        for key, value in values.items()
    }


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
