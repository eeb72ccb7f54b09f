"""``toneflow replay``: ask today's flows what yesterday's calls asked, before shipping.

Each answer recorded for a call is asked again, with the request data it was asked with
(call fields, digits, variables) and the step it asked for, of the flows in ``--flows``
(default: the configured folder), through the same pure answer code the server runs.
Bodies are compared byte for byte; a step that would now 404 or fail is a difference.

Read-only by construction: the store is read in snapshots (``toneflow.store.replays``)
and the flows are answered in-process, never through the app, so nothing is written to
the call log (tests/test_replay.py checks every table).
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import Engine

from toneflow import answer as answering
from toneflow.cli.calls import age_cutoff
from toneflow.cli.flows import store_or_exit
from toneflow.config import load_config
from toneflow.flows.problems import ERROR
from toneflow.flows.registry import FlowSet, check_flow_dir
from toneflow.present import visible
from toneflow.request import AnswerRequest
from toneflow.store.replays import calls_of_flow, recorded_answers

#: Where a recorded body's own URLs say the server was: the base its redirects used.
BASE_URL = re.compile(r"(https?://[^\s\"'<>]+?)/answer/[a-z]+/")
FALLBACK_BASE_URL = "http://localhost/"
#: Differences a ``--since`` run prints in full.
SHOWN_DIFFERENCES = 3


@dataclass(frozen=True)
class Replayed:
    """One recorded answer and what the flows given would answer now."""

    number: int
    row: dict[str, Any]
    status: int
    body: str

    @property
    def same(self) -> bool:
        recorded = self.row["status"]
        return recorded == self.status and (self.status != 200 or self.row["body"] == self.body)

    @property
    def broken(self) -> bool:
        """Served once, and would now 404 or fail."""
        return self.row["status"] == 200 and self.status != 200

    @property
    def asked(self) -> str:
        return self.row["requested_step"] or "(start)"


def base_url(rows: list[dict[str, Any]], configured: str | None) -> str:
    """``TONEFLOW_PUBLIC_URL``, else the base the call's own recorded URLs used."""
    if configured:
        return configured
    for row in rows:
        found = BASE_URL.search(row["body"])
        if found:
            return found.group(1) + "/"
    return FALLBACK_BASE_URL


def replay(rows: list[dict[str, Any]], flow_set: FlowSet, base: str) -> list[Replayed]:
    """Ask ``flow_set`` each recorded request again; pure (no store, no app)."""
    replayed = []
    for number, row in enumerate(rows, start=1):
        stored = row["request"] or {}
        request = AnswerRequest(
            call=dict(stored.get("call") or {}),
            digits=(stored.get("input") or {}).get("digits"),
            variables=dict(stored.get("variables") or {}),
        )
        try:
            served = answering.answer(
                flow_set, row["flow"], row["requested_step"], row["dialect"], request, base
            )
            status, body = 200, served.body.decode("utf-8")
        except answering.NotFound as err:
            status, body = 404, f"404 not_found: {err}"
        except answering.AnswerFailed as err:
            status, body = 500, f"500 answer_url_error: {err}"
        replayed.append(Replayed(number, row, status, body))
    return replayed


def pretty(body: str) -> list[str]:
    """A body's lines to compare by eye: JSON indented, XML indented, else as it is."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False).splitlines()
    except ValueError:
        pass
    if body.startswith("<?xml"):
        try:
            tree = ET.fromstring(body.encode("utf-8"))
            ET.indent(tree)
            return ET.tostring(tree, encoding="unicode").splitlines()
        except ET.ParseError:
            pass
    return body.splitlines() or [""]


def side_by_side(left: list[str], right: list[str], width: int) -> list[str]:
    """Two columns, ``|`` between lines that differ; long lines wrapped to their column."""
    half = max(20, (width - 3) // 2)

    def wrapped(lines: list[str]) -> list[list[str]]:
        return [[line[i : i + half] for i in range(0, max(len(line), 1), half)] for line in lines]

    out = []
    for a, b in zip_longest(wrapped(left), wrapped(right), fillvalue=[]):
        mark = " " if a == b else "|"
        for x, y in zip_longest(a, b, fillvalue=""):
            out.append(f"{x.ljust(half)} {mark} {y}".rstrip())
    return out


def _load(folder: Path, max_digits: int) -> FlowSet:
    flow_set, problems = check_flow_dir(folder, max_digits=max_digits)
    errors = [p for p in problems if p.severity == ERROR]
    if errors:
        for problem in errors:
            click.echo(visible(str(problem)), err=True)
        click.echo(f"toneflow: {folder} has {len(errors)} error(s): nothing replayed", err=True)
        raise SystemExit(2)
    return flow_set


@click.command("replay")
@click.argument("call_id", required=False)
@click.option("--flow", "flow_name", help="replay every call of this flow (with --since)")
@click.option("--since", help="calls served since this long ago, e.g. 7d, 12h, 90m")
@click.option(
    "--flows",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="the flows to replay against (default: TONEFLOW_FLOWS_DIR)",
)
def replay_command(
    call_id: str | None, flow_name: str | None, since: str | None, folder: Path | None
) -> None:
    """Replay a call (CALL_ID), or every call of a flow (--flow NAME --since 7d), against
    the flows in --flows: each step's recorded and would-be bodies side by side. Exit 1
    on any difference, 0 when all are the same. Writes nothing."""
    if (call_id is None) == (flow_name is None) or (flow_name is None) != (since is None):
        raise click.UsageError("give CALL_ID, or --flow NAME with --since (e.g. 7d)")
    config = load_config()
    folder = folder or Path(config["FLOWS_DIR"])
    flow_set = _load(folder, config["MAX_DIGITS"])
    with store_or_exit() as engine:
        if call_id is not None:
            same = _one(engine, call_id, flow_set, folder, config["PUBLIC_URL"])
        else:
            cutoff = age_cutoff(since, "--since")
            same = _many(engine, flow_name, cutoff, flow_set, folder, config["PUBLIC_URL"])
    raise SystemExit(0 if same else 1)


def _one(engine: Engine, call_id: str, flow_set: FlowSet, folder: Path, public: str | None):
    rows = recorded_answers(engine, call_id)
    if not rows:
        click.echo(f"toneflow: no answers recorded for call '{visible(call_id)}'", err=True)
        raise SystemExit(2)
    base = base_url(rows, public)
    steps = replay(rows, flow_set, base)
    width = shutil.get_terminal_size((160, 24)).columns
    click.echo(
        f"call {visible(call_id)}: {len(steps)} answer(s) replayed against {folder} "
        f"(base URL {base})"
    )
    for step in steps:
        row = step.row
        verdict = "same" if step.same else "DIFFERENT"
        click.echo(
            f"\nstep {step.number}: {row['flow']} {step.asked} ({row['dialect']}): served "
            f"{row['step']} by version {row['flow_version']}; now: {verdict}"
        )
        left = [f"served ({row['status']})", *pretty(row["body"])]
        right = [f"now ({step.status})", *pretty(step.body)]
        for line in side_by_side(left, right, width):
            click.echo("  " + visible(line))
    differing = sum(not step.same for step in steps)
    click.echo(
        f"\n{differing} of {len(steps)} step(s) would be served differently"
        if differing
        else f"\nall {len(steps)} step(s) would be served the same"
    )
    return differing == 0


def _many(engine: Engine, flow: str, since, flow_set: FlowSet, folder: Path, public: str | None):
    call_ids = calls_of_flow(engine, flow, since)
    same, different, broken = 0, [], []
    with click.progressbar(
        call_ids, label=f"replaying {len(call_ids)} call(s)", file=sys.stderr
    ) as bar:
        for call_id in bar:
            rows = recorded_answers(engine, call_id)
            steps = replay(rows, flow_set, base_url(rows, public))
            first = next((step for step in steps if not step.same), None)
            if first is None:
                same += 1
            elif any(step.broken for step in steps):
                broken.append((call_id, first))
            else:
                different.append((call_id, first))
    click.echo(
        f"replayed {len(call_ids)} call(s) of {visible(flow)} since "
        f"{since.strftime('%Y-%m-%d %H:%M:%S')} UTC against {folder}"
    )
    click.echo(f"  same: {same}")
    click.echo(f"  different: {len(different)}")
    click.echo(f"  would now fail or 404: {len(broken)}")
    shown = (different + broken)[:SHOWN_DIFFERENCES]
    if shown:
        click.echo(f"first {len(shown)} difference(s):")
    for call_id, step in shown:
        row = step.row
        click.echo(f"\ncall {visible(call_id)}, step {step.number} ({row['flow']} {step.asked}):")
        for line in difflib.unified_diff(
            pretty(row["body"]), pretty(step.body), "served", "now", lineterm=""
        ):
            click.echo("  " + visible(line))
    return not different and not broken
