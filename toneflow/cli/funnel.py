"""``toneflow calls funnel FLOW``: where a flow's calls went and ended, in a terminal.

The same window and version arguments as ``GET /api/flows/<flow>/funnel`` (validated by
its schema) and the same dump, so the three readers show the same numbers.
"""

from __future__ import annotations

import json
from typing import Any

import click
from marshmallow import ValidationError

from schemas.errors import describe_validation
from schemas.funnel import FUNNEL, FUNNEL_ARGS
from toneflow.cli.calls import calls
from toneflow.cli.dtmf import configured_flow
from toneflow.cli.store import command_call_log
from toneflow.present import clock, visible


def step_order(flow: str) -> list[str]:
    """The flow file's steps, in order, when TONEFLOW_FLOWS_DIR has it and it compiles."""
    _, compiled, _ = configured_flow(flow)
    return list(compiled.steps) if compiled is not None else []


@calls.command("funnel")
@click.argument("flow")
@click.option(
    "--since", help="calls first seen at or after (ISO 8601); default: 30 days before --until"
)
@click.option("--until", help="calls first seen before (ISO 8601); default: now")
@click.option("--version", "version", help="only calls served by this flow version")
@click.option("--json", "as_json", is_flag=True, help="print the funnel as the API serves it")
def funnel_command(flow: str, as_json: bool, **options: Any) -> None:
    """Per step of FLOW: calls that reached it, ended there (by outcome), and went on."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        args = FUNNEL_ARGS.load(given)
    except ValidationError as err:
        raise click.UsageError(describe_validation(err)) from err
    with command_call_log() as call_log:
        funnel = FUNNEL.dump(call_log.funnel(flow, **args, order=step_order(flow)))
    if as_json:
        click.echo(json.dumps(funnel, ensure_ascii=True))
        return
    version = f", version {visible(funnel['version'])}" if funnel["version"] else ""
    click.echo(
        f"{visible(flow)}: {funnel['calls']} call(s) first seen from "
        f"{clock(funnel['since'])} to {clock(funnel['until'])}{version}"
    )
    click.echo(f"{'step':<20}{'reached':>9}{'ended':>9}  ended by outcome; went on to")
    for step in funnel["steps"]:
        outcomes = ", ".join(f"{k} {n}" for k, n in step["ended_by_outcome"].items()) or "-"
        edges = ", ".join(
            f"{'!' if e['fallback'] else ''}{e['to']} {e['calls']} ({e['share']:.0%})"
            for e in step["edges"]
        )
        click.echo(
            f"{visible(step['step']):<20}{step['reached']:>9}{step['ended']:>9}"
            f"  {outcomes}; {edges or '-'}"
        )
