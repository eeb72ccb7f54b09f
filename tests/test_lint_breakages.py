"""A new user breaks a shipped flow in each way the contract lists; lint points at the spot.

Each breakage replaces one piece of text in a shipped flow; the problem must be reported
at the line and column where the new text (or a marked character in it) now stands, by
``toneflow lint`` — the command an author runs — with the severity the contract gives.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toneflow.cli import cli

ROOT = Path(__file__).resolve().parent.parent

# (flow, old text, new text, the marked spot, severity, part of the message[, where the
# marked spot is searched from, when not in the new text])
BREAKAGES = [
    ("menu", "start: greet", "start: greet\nstart: menu", "start: menu", "error", "duplicate key"),
    ("menu", "    - play:", "    - plya:", "plya", "error", "unknown action 'plya' (did you mean"),
    ("menu", "finish_on_key", "finish_on_kye", "finish_on_kye", "error", "did you mean 'finish"),
    ("menu", "timeout_ms: 5000", "timeout_ms: 50", "50", "error", "greater than or equal to 100"),
    ("menu", '"1": sales', '"1": sale', "sale", "error", "case '1' names step 'sale'"),
    ("menu", "next: route", "next: rout", "rout", "error", "next names step 'rout'"),
    ("menu", "default: goodbye", "default: bye", "bye", "error", "default names step 'bye'"),
    ("menu", "fallback: goodbye", "fallback: gone", "gone", "error", "fallback names step"),
    ("menu", "start: greet", "start: gret", "gret", "error", "start names step 'gret'"),
    ("menu", "redirect: menu", "redirect: greet", "greet", "error", "redirects to itself"),
    ("menu", "{{ input.digits }}", "{{ input.digits }", '"', "error", "template error", "route:"),
    ("menu", "{{ input.digits }}", "{{ digits }}", '"', "error", "uses 'digits'", "route:"),
    (
        "menu",
        '    cases:\n      "1": sales\n      "2": support\n      "0": menu\n',
        "",
        "switch",
        "error",
        "missing required key 'cases'",
        "route:",
    ),
    (
        "menu",
        "    - speak: Connecting you to sales.",
        "    - speak: !!python/object/apply:os.system [ls]",
        "!!",
        "error",
        "is not allowed",
    ),
    ("menu", "redirect: menu", "redirect: goodbye", "menu:", "warning", "'menu' is never reached"),
    ("dtmf_parties", 'digits: "123"', 'digits: "12X"', "X", "error", "invalid DTMF character 'X'"),
    ("dtmf_parties", 'digits: "321"', 'digits: "3B1"', "B", "warning", "cannot send key 'B'"),
    ("dtmf_parties", 'digits: "321"', 'digits: "32w1"', "w", "warning", "500 ms pause"),
    (
        "conference_pin",
        "pause_before_ms: 4000",
        "pause_before_ms: 4500",
        "4500",
        "warning",
        "4500 ms",
    ),
    ("appointment", "hangup: {}", "hangup: {now: true}", "now", "error", "unknown key 'now'"),
    ("appointment", "  done:", "\tdone:", "\t", "error", "YAML syntax: while scanning"),
    (
        "appointment",
        "speak: Your",
        'speak: "Your',
        "<end>",
        "error",
        "YAML syntax: while scanning a quoted scalar (which began at line 15, column 14)",
    ),
]


def position(text: str, marker: str, after: str) -> tuple[int, int]:
    """Line and column (1-based) of the first ``marker`` at or after ``after`` in ``text``."""
    if marker == "<end>":
        return text.count("\n") + 1, 1
    index = text.index(marker, text.index(after))
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


@pytest.mark.parametrize(
    ("flow", "old", "new", "marker", "severity", "message", "after"),
    [(*b, None) if len(b) == 6 else b for b in BREAKAGES],
    ids=[f"{b[0]}:{b[5]}" for b in BREAKAGES],
)
def test_each_breakage_is_reported_at_its_spot(
    tmp_path, monkeypatch, flow, old, new, marker, severity, message, after
):
    folder = Path(shutil.copytree(ROOT / "flows", tmp_path / "flows"))
    path = folder / f"{flow}.yaml"
    original = path.read_text()
    assert old in original
    broken = original.replace(old, new, 1)
    path.write_text(broken)
    monkeypatch.delenv("TONEFLOW_MAX_DIGITS", raising=False)
    result = CliRunner().invoke(cli, ["lint", str(folder)], catch_exceptions=False)
    line, column = position(broken, marker, after or new)
    expected = f"{path}:{line}:{column}: {severity}: "
    found = [ln for ln in result.stdout.splitlines() if ln.startswith(expected)]
    assert any(message in ln for ln in found), (expected, result.stdout)
    assert result.exit_code == (1 if severity == "error" else 0)
