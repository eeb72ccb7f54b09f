"""``toneflow push PLATFORM FLOW STEP --call REF``: a step's digits into a live call.

The same path as ``POST /push/…`` without a server: the flow is read from
``TONEFLOW_FLOWS_DIR``, the platform's settings from the environment, the push planned
(:mod:`toneflow.push.plan`: exact, or refused naming the character, before anything is
sent), sent once (:mod:`toneflow.push.client`) and put on the call's timeline in the
configured store. ``--dry-run`` prints every request that would be sent, secrets masked.
Exit 0 when the platform took the digits, 1 when it did not or the step cannot be
pushed, 2 for a platform that is not configured.
"""

from __future__ import annotations

from typing import Any

import click

from toneflow.cli.dtmf import load_flow, pair, with_var_hint
from toneflow.cli.store import command_call_log
from toneflow.config import load_config
from toneflow.present import visible
from toneflow.push.client import planned_requests, send
from toneflow.push.plan import PLATFORMS, PlanError, UnknownStep, plan_push
from toneflow.push.platforms import PLATFORMS as PLATFORM_ROWS
from toneflow.push.platforms import VOBIZ_LEGS, NotConfigured, settings_for


@click.command("push")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.argument("flow")
@click.argument("step")
@click.option(
    "--call",
    "call",
    required=True,
    help="the call reference: VICIdial agent_user, Vobiz call_uuid, Genesys call id",
)
@click.option("--leg", type=click.Choice(VOBIZ_LEGS), help="Vobiz: which leg hears the digits")
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="a variable for the step's templates (repeatable)",
)
@click.option("--dry-run", is_flag=True, help="print the requests, secrets masked; send nothing")
@click.option("--round-up", is_flag=True, help="lengthen pauses the platform cannot express")
def push(
    platform: str,
    flow: str,
    step: str,
    call: str,
    leg: str | None,
    variables: tuple[str, ...],
    dry_run: bool,
    round_up: bool,
) -> None:
    """Send STEP's send_digits into a live call on PLATFORM (vicidial, vobiz, genesys).

    The digits are converted exactly into the platform's spelling or refused, naming the
    character and its position, before anything is sent; each request goes once. The
    push is kept on the timeline of call --call. Settings: TONEFLOW_<PLATFORM>_… (see
    docs/push.md). Exit 0 taken, 1 refused or not taken, 2 not configured.
    """
    if leg is not None and platform != "vobiz":
        raise click.UsageError("--leg is for vobiz only")
    names = PLATFORM_ROWS[platform].reference
    reference = {names[0]: call, **({"leg": leg} if leg else {})}
    compiled = load_flow(flow)
    config = load_config()
    try:
        plan = plan_push(
            compiled,
            step,
            platform,
            dict(pair(v) for v in variables),
            round_up=round_up,
            max_digits=config["MAX_DIGITS"],
        )
    except UnknownStep as err:
        raise click.UsageError(str(err)) from None
    except PlanError as err:
        click.echo(f"error: nothing was sent: {with_var_hint(err)}", err=True)
        raise click.exceptions.Exit(1) from None
    try:
        settings = settings_for(platform, config)
    except NotConfigured as err:
        click.echo(f"error: {err}", err=True)
        raise click.exceptions.Exit(2) from None
    if dry_run:
        click.echo(f"would send to {PLATFORM_ROWS[platform].title}, in order (secrets masked):")
        for number, request in enumerate(planned_requests(plan, settings, reference), start=1):
            click.echo(_request_lines(number, request))
        return
    result = send(plan, settings, reference)
    with command_call_log() as call_log:
        call_log.record_push(call, result.as_record(), seen_at=result.at)
    for number, request in enumerate(result.requests, start=1):
        click.echo(_request_lines(number, request))
        click.echo(_reply_line(request))
    shown = visible(call)
    if not result.ok:
        click.echo(
            f"error: the platform did not take the digits (request {len(result.requests)}); "
            f"recorded on the timeline of call {shown} (toneflow calls show {shown})",
            err=True,
        )
        raise click.exceptions.Exit(1)
    click.echo(
        f"pushed {len(result.requests)} request(s) in {result.duration_ms:g} ms; "
        f"on the timeline of call {shown} (toneflow calls show {shown})"
    )


def push_lines(push: dict[str, Any]) -> str:
    """A recorded push's requests and replies, for ``toneflow calls show``."""
    lines = []
    for number, request in enumerate(push["requests"], start=1):
        lines += [_request_lines(number, request), _reply_line(request)]
    return "\n".join(lines) or "(nothing was sent)"


def _request_lines(number: int, request: dict[str, Any]) -> str:
    """A request as the terminal shows it: method, URL, headers and body, masked."""
    lines = [f"request {number} (action {request['action']}): {request['method']} {request['url']}"]
    if request["wait_ms"]:
        lines.append(f"  after waiting {request['wait_ms']} ms")
    lines += [f"  {name}: {value}" for name, value in request["headers"].items()]
    if request["body"] is not None:
        lines.append(f"  body: {request['body']}")
    return visible("\n".join(lines), lines=True)


def _reply_line(request: dict[str, Any]) -> str:
    took = f"{request['duration_ms']:g} ms"
    if request["status"] is None:
        return f"  -> no reply ({took}): {visible(request['error'] or '')}"
    reply = visible(request["reply"].strip())
    line = f"  -> {request['status']} {reply} ({took})"
    if request["error"]:
        line += f"\n  !! {visible(request['error'])}"
    return line
