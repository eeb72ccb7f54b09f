"""The steps of a flow as a graph: which step names which, what loops, what no path reaches.

Read from the file's raw data (not the compiled flow), so these problems are reported
beside schema errors in the same run, even when another part of the file is broken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from toneflow.flows import model
from toneflow.flows.source import Path


@dataclass(frozen=True)
class Reference:
    """One place a flow names a step: ``path`` in the file, from ``step`` (None: top level)."""

    path: Path
    target: Any
    what: str
    step: str | None


def references(data: dict, steps: dict) -> Iterator[Reference]:
    """Every place a flow file names a step, in file order."""
    for key in ("start", "fallback"):
        if key in data:
            yield Reference((key,), data[key], key, None)
    for name, body in steps.items():
        if isinstance(body, dict):
            cases = body.get("cases")
            for case, target in cases.items() if isinstance(cases, dict) else ():
                yield Reference(("steps", name, "cases", case), target, f"case '{case}'", name)
            if "default" in body:
                yield Reference(("steps", name, "default"), body["default"], "default", name)
            continue
        for index, action in enumerate(body if isinstance(body, list) else ()):
            if not isinstance(action, dict):
                continue
            redirect = action.get("redirect")
            if isinstance(redirect, dict):
                path = ("steps", name, index, "redirect", "step")
                yield Reference(path, redirect.get("step"), "redirect", name)
            elif redirect is not None:
                yield Reference(("steps", name, index, "redirect"), redirect, "redirect", name)
            collect = action.get("collect_digits")
            if isinstance(collect, dict) and "next" in collect:
                path = ("steps", name, index, "collect_digits", "next")
                yield Reference(path, collect["next"], "next", name)


def _input_before(body: Any, index: int) -> bool:
    """The step collects digits before its action ``index`` (a redirect)."""
    return isinstance(body, list) and any(
        isinstance(action, dict) and "collect_digits" in action for action in body[:index]
    )


def endless_loops(data: dict, steps: dict) -> Iterator[tuple[Path, str]]:
    """Redirect cycles with no digit collection on the way: the call would loop forever.

    A redirect counts when no ``collect_digits`` comes before it in its step.

    Only redirects count: a switch decides on the request, so a cycle through one may
    end. One (path, message) per cycle, at the redirect of its first step in the file.
    """
    edges: dict[str, list[Reference]] = {}
    for ref in references(data, steps):
        if (
            ref.what == "redirect"
            and ref.target in steps
            and not _input_before(steps[ref.step], ref.path[2])
        ):
            edges.setdefault(ref.step, []).append(ref)
    reported: set[frozenset[str]] = set()
    for start in steps:
        cycle = _cycle_from(start, edges)
        if cycle is None or frozenset(r.step for r in cycle) in reported:
            continue
        reported.add(frozenset(r.step for r in cycle))
        if len(cycle) == 1:
            message = f"step '{start}' redirects to itself"
        else:
            names = " -> ".join(f"'{r.step}'" for r in cycle)
            message = f"redirects go round {names} -> '{start}'"
        yield cycle[0].path, f"{message} with no input in between: the call would loop forever"


def _cycle_from(start: str, edges: dict[str, list[Reference]]) -> list[Reference] | None:
    """The redirects of a shortest way from ``start`` back to ``start``, if there is one."""
    paths: dict[str, list[Reference]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for step in frontier:
            for ref in edges.get(step, ()):
                if ref.target == start:
                    return [*paths[step], ref]
                if ref.target not in paths:
                    paths[ref.target] = [*paths[step], ref]
                    following.append(ref.target)
        frontier = following
    return None


def unreachable(data: dict, steps: dict) -> Iterator[str]:
    """Steps that no path from the start step or the fallback reaches, in file order."""
    roots = [data.get("start", next(iter(steps), None)), data.get("fallback")]
    leads: dict[str | None, list[Any]] = {}
    for ref in references(data, steps):
        leads.setdefault(ref.step, []).append(ref.target)
    seen: set[str] = set()
    pending = [root for root in roots if isinstance(root, str) and root in steps]
    while pending:
        step = pending.pop()
        if step in seen:
            continue
        seen.add(step)
        pending += [t for t in leads.get(step, ()) if isinstance(t, str) and t in steps]
    if not seen:
        return  # the start step itself is missing: that error is reported already
    yield from (name for name in steps if name not in seen)


@dataclass(frozen=True)
class Edge:
    """One way a compiled flow leads from a step to another: ``kind`` is "redirect",
    "next" (``collect_digits.next``), "case" (``label`` is the case's value) or "default"."""

    source: str
    target: str
    kind: str
    label: str | None = None


def flow_edges(flow: model.Flow) -> list[Edge]:
    """Every edge of a compiled flow, in file order (the fallback is no edge: any step
    that cannot render leads to it; the drawing marks it instead)."""
    edges = []
    for name, step in flow.steps.items():
        if step.switch is not None:
            edges += [Edge(name, to, "case", case) for case, to in step.switch.cases.items()]
            if step.switch.default is not None:
                edges.append(Edge(name, step.switch.default, "default"))
            continue
        for action in step.actions:
            if isinstance(action, model.Redirect):
                edges.append(Edge(name, action.step, "redirect"))
            elif isinstance(action, model.CollectDigits):
                edges.append(Edge(name, action.next, "next"))
    return edges
