"""What ``toneflow test`` prints: one line per case, then each failure, then the count.

Reads like pytest's output, so it needs no explaining; a failure shows the expected and
the actual actions side by side, one action per line, with the differing lines marked.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from toneflow.flowtest.run import Mismatch, Outcome

#: Marks between the columns, as ``diff --side-by-side`` writes them.
SAME, CHANGED, ONLY_EXPECTED, ONLY_ACTUAL = " ", "|", "<", ">"


def case_line(outcome: Outcome) -> str:
    return f"{outcome.file}::{outcome.case.name} {'PASSED' if outcome.passed else 'FAILED'}"


def rule(title: str, char: str = "=", width: int = 80) -> str:
    """A title centred in a line of ``char``; a fixed width, so output reads the same in
    a terminal, a CI log and the README."""
    title = f" {title} "
    left = max((width - len(title)) // 2, 3)
    return char * left + title + char * max(width - left - len(title), 3)


def failure(outcome: Outcome) -> list[str]:
    """The full account of one failed case."""
    mismatch = outcome.mismatch
    assert mismatch is not None
    lines = [rule(f"{outcome.file}::{outcome.case.name}", "_")]
    for number, served in enumerate(outcome.served, 1):
        digits = f" digits={served.digits!r}" if served.digits is not None else ""
        lines.append(
            f"request {number}: POST {served.path}{digits} -> {served.status} step {served.step!r}"
        )
    if mismatch.request is None:
        who = f"far end ({mismatch.party})" if mismatch.party else "far end"
        lines += [f"{who}: {line}" for line in mismatch.message.splitlines()]
        return [*lines, *(f"  {line}" for line in mismatch.detail)]
    lines.append(f"request {mismatch.request}: {mismatch.message}")
    if mismatch.expected is not None:
        lines += side_by_side(mismatch)
    elif mismatch.actual:
        lines += ["  served:", *(f"  {line}" for line in _action_lines(mismatch.actual))]
    return lines


def _action_lines(actions: list[Any] | None) -> list[str]:
    return [json.dumps(action, ensure_ascii=False) for action in actions or []]


def side_by_side(mismatch: Mismatch) -> list[str]:
    """Expected | actual, aligned by difflib so an inserted action does not shift the rest."""
    left, right = _action_lines(mismatch.expected), _action_lines(mismatch.actual)
    width = max([len("expected"), *map(len, left)])
    rows = [(SAME, "expected", "actual")]
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [(SAME, a, b) for a, b in zip(left[i1:i2], right[j1:j2], strict=True)]
            continue
        a_part, b_part = left[i1:i2], right[j1:j2]
        for k in range(max(len(a_part), len(b_part))):
            a = a_part[k] if k < len(a_part) else ""
            b = b_part[k] if k < len(b_part) else ""
            mark = CHANGED if a and b else (ONLY_EXPECTED if a else ONLY_ACTUAL)
            rows.append((mark, a, b))
    return [f"  {a.ljust(width)} {mark} {b}".rstrip() for mark, a, b in rows]


def summary(outcomes: list[Outcome], errors: int) -> str:
    passed = sum(o.passed for o in outcomes)
    failed = len(outcomes) - passed
    parts = [f"{passed} passed", f"{failed} failed"]
    parts += [f"{errors} error(s)"] if errors else []
    return rule(", ".join(parts))
