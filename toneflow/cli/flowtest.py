"""``toneflow test``: run flow tests offline, through the real app, and say what differs."""

from __future__ import annotations

from pathlib import Path

import click

from toneflow.cli.lint import require_flows_dir
from toneflow.config import load_config
from toneflow.flows.problems import FlowSetError, Problem
from toneflow.flowtest import report
from toneflow.flowtest.files import find_test_files, load_test_file
from toneflow.flowtest.run import Outcome, offline_app, run_case


@click.command(
    "test",
    help="Run flow tests (default: TONEFLOW_FLOWS_DIR/tests) offline through the real app.",
)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--flows",
    "flows_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The flows folder to test (default: TONEFLOW_FLOWS_DIR).",
)
def flowtest(paths: tuple[Path, ...], flows_dir: Path | None) -> None:
    config = load_config()
    flows_dir = flows_dir or Path(config["FLOWS_DIR"])
    require_flows_dir(flows_dir)
    if not paths and not (flows_dir / "tests").is_dir():
        raise click.UsageError(
            f"{flows_dir / 'tests'}: the flow tests folder does not exist (put test files "
            "there, or name them)"
        )
    files = find_test_files(list(paths) or [flows_dir / "tests"])
    problems: list[Problem] = []
    loaded = []
    for path in files:
        test_file, found = load_test_file(path)
        problems += found
        if test_file is not None:
            loaded.append((path, test_file))
    for problem in problems:
        click.echo(f"{problem}")
    if not loaded and not problems:
        click.echo(f"no flow test files in {', '.join(map(str, paths or [flows_dir / 'tests']))}")
        raise SystemExit(1)
    outcomes: list[Outcome] = []
    try:
        with offline_app(flows_dir, config["MAX_DIGITS"]) as app:
            client = app.test_client()
            for path, test_file in loaded:
                flow = test_file.flow or path.stem.split(".")[0]
                for case in test_file.cases:
                    outcome = run_case(app, client, flow, case, len(outcomes) + 1)
                    outcome.file = str(path)
                    outcomes.append(outcome)
                    click.echo(report.case_line(outcome))
    except FlowSetError as err:
        click.echo(f"the flows cannot be served:\n{err}")
        raise SystemExit(1) from err
    failed = [o for o in outcomes if not o.passed]
    if failed:
        click.echo(report.rule("FAILURES"))
        for outcome in failed:
            click.echo("\n".join(report.failure(outcome)))
    click.echo(report.summary(outcomes, len(problems)))
    raise SystemExit(1 if failed or problems else 0)
