"""``toneflow dtmf``: convert, time and check DTMF sequences from the command line.

A thin shell over :mod:`toneflow.dtmf` (and :mod:`toneflow.render.ozml` for OzML's
XML): no Flask app context is needed, so support staff can answer "what will the far
end hear?" without a server or a database.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import NoReturn

import click
from marshmallow import ValidationError

from schemas.base import first_message
from toneflow.config import load_config
from toneflow.dtmf.dialects import DIGIT_DIALECTS
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.expect import first_difference
from toneflow.dtmf.limits import ERROR, timing_breaches
from toneflow.dtmf.parsing import DEFAULT_MAX_DIGITS, parse
from toneflow.dtmf.spelling import render
from toneflow.dtmf.timeline import Timeline, TimelineWarning, timeline
from toneflow.dtmf.tokens import Pause, Token
from toneflow.dtmf.wire import DEFAULT_GAP_MS, DEFAULT_TONE_MS, WireTiming, wire_plan
from toneflow.flows.compile import compile_file
from toneflow.flows.model import Flow, SendDigits, TemplateSource
from toneflow.flows.registry import flow_files
from toneflow.flows.templates import RENDER_FAILURES, render_failure, unset_path
from toneflow.render.ozml import dtmf_fragment

_DIALECT = click.Choice(DIGIT_DIALECTS)
_MS = click.IntRange(min=0)


def _fail(error: ValueError) -> NoReturn:
    """Report a rule the input breaks on stderr and exit 1, as scripts expect."""
    click.echo(f"error: {error}", err=True)
    raise click.exceptions.Exit(1)


def _write(
    seq: tuple[Token, ...], dialect: str, *, round_up: bool, source: str | None = None
) -> str:
    """``seq`` in ``dialect``: text, or for OzML the XML fragment ``render/`` builds."""
    if dialect == "ozml":
        return dtmf_fragment(seq, round_up=round_up, source=source)
    return render(seq, dialect, round_up=round_up, source=source)


def _echo_warnings(warnings: tuple[TimelineWarning, ...]) -> None:
    for warning in warnings:
        where = f"position {warning.position}: " if warning.position is not None else ""
        click.echo(f"warning: {where}{warning.message}")


@click.group(name="dtmf")
def dtmf() -> None:
    """Parse, convert and time DTMF sequences in any supported dialect."""


@dtmf.command("convert")
@click.argument("text")
@click.option("--from", "from_dialect", type=_DIALECT, required=True, help="Dialect of TEXT.")
@click.option("--to", "to_dialect", type=_DIALECT, required=True, help="Dialect to write.")
@click.option(
    "--round-up",
    is_flag=True,
    help="Lengthen pauses the target cannot express exactly (never shortens them).",
)
def convert_command(text: str, from_dialect: str, to_dialect: str, round_up: bool) -> None:
    """Print TEXT re-spelled in another dialect, or fail naming the character."""
    try:
        seq = parse(text, from_dialect)
        click.echo(_write(seq, to_dialect, round_up=round_up, source=text))
    except DtmfError as error:
        _fail(error)


@dtmf.command("timeline")
@click.argument("text")
@click.option("--dialect", type=_DIALECT, default="minivoice", show_default=True)
@click.option("--tone-ms", type=click.IntRange(min=1), default=DEFAULT_TONE_MS, show_default=True)
@click.option("--gap-ms", type=_MS, default=DEFAULT_GAP_MS, show_default=True)
@click.option("--pause-before-ms", type=_MS, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
def timeline_command(
    text: str, dialect: str, tone_ms: int, gap_ms: int, pause_before_ms: int, as_json: bool
) -> None:
    """Show when each key of TEXT sounds, the total time, and timing warnings."""
    try:
        seq = parse(text, dialect)
    except DtmfError as error:
        _fail(error)
    result = timeline(
        seq, tone_ms=tone_ms, gap_ms=gap_ms, pause_before_ms=pause_before_ms, dialect=dialect
    )
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(result), indent=2))
    else:
        _echo_table(result)


def _echo_table(result: Timeline) -> None:
    click.echo(f"{'key':<4}{'position':>9}{'start ms':>10}{'end ms':>10}")
    for tone in result.tones:
        click.echo(f"{tone.key:<4}{tone.position:>9}{tone.start_ms:>10}{tone.end_ms:>10}")
    click.echo(f"total: {result.total_ms} ms")
    _echo_warnings(result.warnings)


@dtmf.command("check")
@click.argument("text")
@click.option("--dialect", type=_DIALECT, required=True)
@click.option("--tone-ms", type=click.IntRange(min=1), default=DEFAULT_TONE_MS, show_default=True)
@click.option("--gap-ms", type=_MS, default=DEFAULT_GAP_MS, show_default=True)
@click.option("--pause-before-ms", type=_MS, default=0, show_default=True)
@click.option(
    "--max-length", type=click.IntRange(min=1), default=DEFAULT_MAX_DIGITS, show_default=True
)
def check_command(
    text: str, dialect: str, tone_ms: int, gap_ms: int, pause_before_ms: int, max_length: int
) -> None:
    """Validate TEXT for DIALECT: print ok and any timing warnings, or fail (exit 1).

    A tone shorter than detectors must accept (40 ms) fails; a short gap or a key
    repeated too soon (under 50 ms) is a warning.
    """
    try:
        seq = parse(text, dialect, max_length=max_length)
    except DtmfError as error:
        _fail(error)
    # the timeline warns of every repeated key already; the limits add tone and gap
    breaches = timing_breaches(WireTiming(tone_ms, gap_ms))
    errors = [b for b in breaches if b.severity == ERROR]
    for breach in errors:
        click.echo(f"error: {breach.message}", err=True)
    if errors:
        raise click.exceptions.Exit(1)
    click.echo("ok")
    for breach in breaches:
        click.echo(f"warning: {breach.message}")
    result = timeline(
        seq, tone_ms=tone_ms, gap_ms=gap_ms, pause_before_ms=pause_before_ms, dialect=dialect
    )
    _echo_warnings(result.warnings)


@dtmf.command("export")
@click.argument("flow")
@click.argument("step")
@click.option("--to", "to_dialect", type=_DIALECT, required=True, help="Dialect to write.")
@click.option("--round-up", is_flag=True, help="Lengthen pauses the target cannot express.")
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="A request variable for templated digits (repeatable).",
)
def export_command(
    flow: str, step: str, to_dialect: str, round_up: bool, variables: tuple[str, ...]
) -> None:
    """Print each send_digits of a flow's STEP in another dialect, its pause included.

    The flow is read from TONEFLOW_FLOWS_DIR. Templated digits are rendered with the
    flow's vars and the --var values, as a call with those variables would get them.
    """
    compiled = _load_flow(flow)
    for index, sequence in _step_sends(compiled, flow, step, variables):
        try:
            click.echo(f"action {index}: {_write(sequence, to_dialect, round_up=round_up)}")
        except DtmfError as error:
            _fail(ValueError(f"action {index}: {error}"))


def _step_sends(
    compiled: Flow, flow: str, step: str, variables: tuple[str, ...]
) -> list[tuple[int, tuple[Token, ...]]]:
    """(action number, tokens with pause_before_ms as a leading pause) for each
    send_digits of ``step``, templates rendered with the flow's vars and ``variables``."""
    if step not in compiled.steps:
        _fail(ValueError(f"flow '{flow}' has no step named '{step}'"))
    context = {
        "call": {},
        "input": {},
        "vars": compiled.vars,
        "variables": dict(_pair(text) for text in variables),
    }
    sends = [
        (index, action)
        for index, action in enumerate(compiled.steps[step].actions, start=1)
        if isinstance(action, SendDigits)
    ]
    if not sends:
        _fail(ValueError(f"step '{step}' of flow '{flow}' sends no digits"))
    found = []
    for index, action in sends:
        try:
            digits = _value(action.digits, context)
            pause = _value(action.pause_before_ms, context) or 0
            sequence = (
                (Pause(pause, None), *parse(digits, "minivoice"))
                if pause
                else parse(digits, "minivoice")
            )
        except (DtmfError, ValidationError) as error:
            _fail(ValueError(f"action {index}: {first_message(getattr(error, 'messages', error))}"))
        except RENDER_FAILURES as error:
            _fail(ValueError(f"action {index}: {_render_reason(error, context)}"))
        found.append((index, sequence))
    return found


def _render_reason(error: Exception, context: dict) -> str:
    """The answer engine's wording, and for a missing variable the option that sets it."""
    reason = render_failure(error, context)
    path = unset_path(error, context)
    if path is not None and path[0] == "variables" and len(path) == 2:
        reason += f": pass --var {path[1]}=…"
    return reason


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"'{text}' is not NAME=VALUE", param_hint="--var")
    return name, value


def _value(value: object, context: dict) -> object:
    return value.resolve(context) if isinstance(value, TemplateSource) else value


def configured_flow(name: str) -> tuple[Path | None, Flow | None, list]:
    """The flow file named ``name`` in TONEFLOW_FLOWS_DIR, compiled: (path, flow, problems);
    (None, None, []) when the folder has no such file."""
    config = load_config()
    folder = Path(config["FLOWS_DIR"])
    path = (
        next((p for p in flow_files(folder) if p.stem == name), None) if folder.is_dir() else None
    )
    if path is None:
        return None, None, []
    flow, problems = compile_file(path, max_digits=config["MAX_DIGITS"])
    return path, flow, problems


def _load_flow(name: str) -> Flow:
    path, flow, problems = configured_flow(name)
    if path is None:
        _fail(ValueError(f"no flow named '{name}' in {load_config()['FLOWS_DIR']}"))
    if flow is None:
        for problem in problems:
            click.echo(str(problem), err=True)
        _fail(ValueError(f"flow '{name}' has errors; run toneflow lint"))
    return flow


_VARS = click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="With --flow: a request variable for templated digits (repeatable).",
)


@dtmf.command("render")
@click.argument("text", required=False)
@click.option("--dialect", type=_DIALECT, default="minivoice", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--tone-ms", type=click.IntRange(min=1), help="Tone length [flow's, else 100].")
@click.option("--gap-ms", type=_MS, help="Silence after each key [flow's, else 100].")
@click.option("--pause-before-ms", type=_MS, default=0, show_default=True)
@click.option("--codec", type=click.Choice(["pcm16", "ulaw"]), default="pcm16", show_default=True)
@click.option("--rate", type=click.IntRange(4000, 192000), default=8000, show_default=True)
@click.option("--flow", help="Render a flow's step instead of TEXT (needs --step).")
@click.option("--step", help="With --flow: the step whose send_digits are rendered.")
@_VARS
def render_command(
    text: str | None,
    dialect: str,
    out: Path,
    tone_ms: int | None,
    gap_ms: int | None,
    pause_before_ms: int,
    codec: str,
    rate: int,
    flow: str | None,
    step: str | None,
    variables: tuple[str, ...],
) -> None:
    """Write TEXT as DTMF audio to a WAV file, as the wire plan puts it on the line.

    Row and column tones at -10 and -8 dBm0; gaps and pauses are exact silence; time 0
    is the start of the send. With --flow/--step, each send_digits of the step is
    rendered in order, one after another (its pause_before_ms first, the flow's dtmf:
    tone and gap unless given here); the step's other actions (speak, play, …) take no
    time in the file.
    """
    if (text is None) == (flow is None) or (flow is None) != (step is None):
        raise click.UsageError("give TEXT, or --flow with --step")
    from toneflow.dtmf import audio  # numpy: only the commands that make sound load it

    if flow is not None:
        compiled = _load_flow(flow)
        timing = _timing(tone_ms, gap_ms, compiled.dtmf)
        plans = [
            wire_plan(seq, "minivoice", timing=timing)
            for _, seq in _step_sends(compiled, flow, step, variables)
        ]
    else:
        try:
            seq = parse(text, dialect)
        except DtmfError as error:
            _fail(error)
        plans = [
            wire_plan(
                seq,
                dialect,
                timing=_timing(tone_ms, gap_ms, WireTiming()),
                pause_before_ms=pause_before_ms,
            )
        ]
    import numpy as np

    samples = np.concatenate([audio.render_plan(plan, rate=rate) for plan in plans])
    audio.write_wav(out, samples, rate=rate, codec=codec)
    keys = sum(len(plan.tones) for plan in plans)
    seconds = len(samples) / rate
    click.echo(f"wrote {out}: {keys} keys, {seconds:.3f} s, {rate} Hz {codec}")


def _timing(tone_ms: int | None, gap_ms: int | None, default: WireTiming) -> WireTiming:
    return WireTiming(
        default.tone_ms if tone_ms is None else tone_ms,
        default.gap_ms if gap_ms is None else gap_ms,
    )


@dtmf.command("decode")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--expect", "expect", metavar="TEXT", help="Check what was heard against TEXT.")
@click.option("--dialect", type=_DIALECT, default="minivoice", show_default=True)
@click.option("--tone-ms", type=click.IntRange(min=1), default=DEFAULT_TONE_MS, show_default=True)
@click.option("--gap-ms", type=_MS, default=DEFAULT_GAP_MS, show_default=True)
@click.option("--pause-before-ms", type=_MS, default=0, show_default=True)
def decode_command(
    file: Path,
    fmt: str,
    expect: str | None,
    dialect: str,
    tone_ms: int,
    gap_ms: int,
    pause_before_ms: int,
) -> None:
    """Print every DTMF key heard in a WAV FILE, with its start and end in ms.

    PCM (8-32 bit), float or G.711 µ-law, at any common rate. With --expect, the keys
    heard are checked against TEXT's wire plan (--dialect, --tone-ms, --gap-ms,
    --pause-before-ms; time 0 is the start of the file): exit 1 naming the first key
    missing, extra, or more than 20 ms early or late.
    """
    from toneflow.dtmf import audio, decode  # numpy: only the commands that hear load it

    plan = None
    if expect is not None:
        try:
            seq = parse(expect, dialect)
        except DtmfError as error:
            _fail(error)
        timing = WireTiming(tone_ms, gap_ms)
        plan = wire_plan(seq, dialect, timing=timing, pause_before_ms=pause_before_ms)
    try:
        heard = decode.decode(audio.read_wav(file))
    except audio.AudioError as error:
        _fail(error)
    if fmt == "json":
        keys = [dataclasses.asdict(key) for key in heard]
        click.echo(json.dumps({"keys": keys}, indent=2))
    else:
        click.echo(f"{'key':<4}{'start ms':>10}{'end ms':>10}")
        for key in heard:
            click.echo(f"{key.key:<4}{key.start_ms:>10}{key.end_ms:>10}")
        click.echo(f"heard: {''.join(key.key for key in heard) or '(nothing)'}")
    if plan is not None:
        difference = first_difference(plan, [(k.key, k.start_ms) for k in heard])
        if difference is not None:
            _fail(ValueError(difference))
        pairs = zip(heard, plan.tones, strict=True)  # first_difference found none missing
        worst = max((abs(k.start_ms - t.start_ms) for k, t in pairs), default=0)
        click.echo(f"ok: every planned key heard, in time (largest offset {worst} ms)", err=True)
