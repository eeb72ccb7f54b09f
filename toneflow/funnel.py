"""Where calls end: a call's path through a flow, and the funnel counted from many paths.

Pure: no Flask, no SQL. Each answer adds the steps it passed through to its call's path
(:func:`path_part`), in the same statement that updates the call row, so the funnel of a
flow is one grouped read of ``(path, outcome, count)`` rows, counted here exactly by
:func:`count_funnel`: per step, the calls that reached it and that ended there (by
outcome), and per edge the calls that went along it. A call is counted once per step and
once per edge, however often it went round a loop.

A path is step names separated by spaces; a step entered as the flow's fallback carries
:data:`FALLBACK_MARK` before its name. Step names (``^[a-z0-9][a-z0-9_-]*$``) hold neither.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

FALLBACK_MARK = "!"
#: The longest path a call keeps, in characters (a funnel reads it from an index, and an
#: index entry must fit PostgreSQL's limit of about 2.7 kB). A call whose next answer
#: would pass it keeps what it has, ends with :data:`TRUNCATED_MARK`, and is counted as far
#: as it got and as ``truncated`` — some 150 steps of ten-letter names.
PATH_MAX = 2000
TRUNCATED_MARK = "+"


def path_part(steps: Sequence[str], fallback_from: str | None) -> str:
    """One answer's steps as path text: the step after ``fallback_from`` marked a fallback."""
    marked = list(steps)
    if fallback_from is not None:
        for index in range(len(marked) - 1, 0, -1):
            if marked[index - 1] == fallback_from:
                marked[index] = FALLBACK_MARK + marked[index]
                break
    return " ".join(marked)


def path_steps(path: str | None) -> list[tuple[str, bool]]:
    """``"connect !sorry"`` -> ``[("connect", False), ("sorry", True)]``."""
    return [
        (name.removeprefix(FALLBACK_MARK), name.startswith(FALLBACK_MARK))
        for name in (path or "").split()
        if name != TRUNCATED_MARK
    ]


def count_funnel(
    rows: Iterable[tuple[str | None, str | None, int]], order: Sequence[str] = ()
) -> dict[str, Any]:
    """The funnel of ``(path, outcome, calls)`` rows: ``{"calls", "truncated", "steps"}``.

    Each step: ``reached``, ``ended`` (its calls' last step), ``ended_by_outcome`` and its
    ``edges`` (``to``, ``calls``, ``share`` of the calls that reached it, ``fallback``).
    Every step of ``order`` (the flow file's) comes, in that order, reached or not; then
    any other step reached (one an older version had), by name.
    """
    total = truncated = 0
    reached: Counter[str] = Counter()
    ended: dict[str, Counter[str]] = {}
    edges: Counter[tuple[str, str, bool]] = Counter()
    for path, outcome, calls in rows:
        total += calls
        if path and path.endswith(" " + TRUNCATED_MARK):
            truncated += calls
        steps = path_steps(path)
        if not steps:
            continue
        for name in {name for name, _ in steps}:
            reached[name] += calls
        pairs = {(a, b, fell) for (a, _), (b, fell) in pairwise(steps)}
        for pair in pairs:
            edges[pair] += calls
        ended.setdefault(steps[-1][0], Counter())[outcome or "unknown"] += calls
    names = [*order, *sorted(set(reached) - set(order))]
    steps = [_step(name, reached, ended, edges, order) for name in names]
    return {"calls": total, "truncated": truncated, "steps": steps}


def _step(name, reached, ended, edges, order) -> dict[str, Any]:
    came = reached[name]
    position = {step: index for index, step in enumerate(order)}
    leaving = sorted(
        ((to, fell, calls) for (source, to, fell), calls in edges.items() if source == name),
        key=lambda edge: (position.get(edge[0], len(position)), edge[0], edge[1]),
    )
    by_outcome = ended.get(name, Counter())
    return {
        "step": name,
        "reached": came,
        "ended": sum(by_outcome.values()),
        "ended_by_outcome": dict(sorted(by_outcome.items())),
        "edges": [
            {"to": to, "fallback": fell, "calls": calls, "share": round(calls / came, 4)}
            for to, fell, calls in leaving
        ],
    }


#: The window a funnel covers when it is not given: the last 30 days.
DEFAULT_WINDOW = timedelta(days=30)


def window(
    since: datetime | None, until: datetime | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """A funnel's window (``since`` inclusive, ``until`` exclusive, on ``first_seen``):
    what was given, a missing end ``now``, a missing start 30 days before the end."""
    until = until or now
    return since or until - DEFAULT_WINDOW, until


def call_path(answers: Iterable[Mapping[str, Any]]) -> list[tuple[str, bool]]:
    """A call's path from its recorded answers (in serving order), as :func:`path_steps`
    gives it: each answer's decision's steps (or, recorded before decisions were, its
    step), a step entered as the fallback marked."""
    parts = []
    for answer in answers:
        steps = (answer.get("decision") or {}).get("steps") or [answer["step"]]
        parts.append(path_part(steps, answer.get("fallback_from")))
    return path_steps(" ".join(parts))
