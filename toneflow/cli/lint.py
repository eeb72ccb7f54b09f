"""``toneflow lint``: every problem in every flow file, as ``file:line:column: …``.

It runs the very code start-up runs, so a set that lints clean is a set that serves.
``--format json`` prints the same problems as one JSON list, for editors and CI.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from toneflow.config import load_config
from toneflow.flows.compile import compile_file
from toneflow.flows.problems import ERROR, WARNING, Problem
from toneflow.flows.registry import check_flow_dir, flow_files
from toneflow.push.plan import PLATFORMS


def require_flows_dir(folder: Path) -> None:
    """A usage error (exit 2, no traceback) when the flows folder is not there.

    Named paths are checked by click (``exists=True``); this is the default one, from
    ``TONEFLOW_FLOWS_DIR``, which a fresh checkout run from another folder lacks.
    """
    if not folder.is_dir():
        raise click.UsageError(
            f"{folder}: the flows folder does not exist (set TONEFLOW_FLOWS_DIR, or run "
            "from the folder that holds flows/)"
        )


@click.command(help="Check flow files (default: TONEFLOW_FLOWS_DIR) and report every problem.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one `file:line:column: severity: message` per line; json: one list.",
)
@click.option(
    "--platform",
    type=click.Choice(PLATFORMS),
    help="Also check every literal send_digits against a push platform (toneflow push).",
)
def lint(paths: tuple[Path, ...], strict: bool, output_format: str, platform: str | None) -> None:
    config = load_config()
    max_digits = config["MAX_DIGITS"]
    problems: list[Problem] = []
    checked = 0
    if not paths:
        require_flows_dir(Path(config["FLOWS_DIR"]))
    for path in paths or (Path(config["FLOWS_DIR"]),):
        if path.is_dir():
            _, found = check_flow_dir(path, max_digits=max_digits, platform=platform)
            checked += len(flow_files(path))
        else:
            _, found = compile_file(path, max_digits=max_digits, platform=platform)
            checked += 1
        problems += found
    problems.sort()
    if output_format == "json":
        click.echo(json.dumps([dataclasses.asdict(p) for p in problems], indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
    errors = sum(p.severity == ERROR for p in problems)
    warnings = sum(p.severity == WARNING for p in problems)
    summary = f"{checked} file(s) checked, {errors} error(s)"
    click.echo(summary + (f", {warnings} warning(s)" if warnings else ""), err=True)
    raise SystemExit(1 if errors or (strict and problems) else 0)
