"""``toneflow lint``: every problem in every flow file, as ``file:line:column: …``.

It runs the very code start-up runs, so a set that lints clean is a set that serves.
"""

from __future__ import annotations

from pathlib import Path

import click

from toneflow.config import load_config
from toneflow.flows.compile import compile_file
from toneflow.flows.problems import ERROR, Problem
from toneflow.flows.registry import check_flow_dir


@click.command(help="Check flow files (default: TONEFLOW_FLOWS_DIR) and report every problem.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
def lint(paths: tuple[Path, ...], strict: bool) -> None:
    config = load_config()
    max_digits = config["MAX_DIGITS"]
    problems: list[Problem] = []
    checked = 0
    for path in paths or (Path(config["FLOWS_DIR"]),):
        if path.is_dir():
            _, found = check_flow_dir(path, max_digits=max_digits)
            checked += len(list(path.glob("*.y*ml")))
        else:
            _, found = compile_file(path, max_digits=max_digits)
            checked += 1
        problems += found
    for problem in sorted(problems):
        click.echo(str(problem))
    errors = sum(p.severity == ERROR for p in problems)
    click.echo(f"{checked} file(s) checked, {errors} error(s)", err=True)
    raise SystemExit(1 if errors or (strict and problems) else 0)
