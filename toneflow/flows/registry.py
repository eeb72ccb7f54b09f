"""The set of flows being served: every ``*.yaml``/``*.yml`` in one folder, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from toneflow.flows.compile import compile_file
from toneflow.flows.model import Flow
from toneflow.flows.problems import ERROR, FlowSetError, Problem

FLOW_SUFFIXES = (".yaml", ".yml")


@dataclass
class FlowSet:
    """Compiled flows by name. Built whole, so a broken file never half-replaces a good set."""

    flows: dict[str, Flow] = field(default_factory=dict)
    max_digits: int = 128
    #: Warnings found while loading: served anyway, logged at start-up and reload.
    warnings: list[Problem] = field(default_factory=list)
    #: The folder's state when it was read (see :func:`fingerprint`).
    fingerprint: tuple = ()

    def get(self, name: str) -> Flow | None:
        return self.flows.get(name)


def flow_files(folder: Path) -> list[Path]:
    """The flow files in ``folder`` (not recursive), in a stable order."""
    return sorted(p for p in folder.iterdir() if p.suffix in FLOW_SUFFIXES and p.is_file())


def fingerprint(folder: Path) -> tuple:
    """Each flow file's name, size and modification time: changes when any file does.

    Cheap enough to take on every request while developing (a ``stat`` per file).
    """
    try:
        return tuple(
            (p.name, stat.st_size, stat.st_mtime_ns)
            for p in flow_files(folder)
            for stat in (p.stat(),)
        )
    except OSError:
        return ("unreadable",)


def check_flow_dir(
    folder: Path, *, max_digits: int, platform: str | None = None
) -> tuple[FlowSet, list[Problem]]:
    """Compile every flow file in ``folder``; return what compiled and every problem
    (``platform``: also where digits cannot be pushed there, for ``lint --platform``)."""
    if not folder.is_dir():
        return FlowSet(max_digits=max_digits), [
            Problem(str(folder), 1, 1, ERROR, "the flows folder does not exist")
        ]
    # Taken before reading, so an edit made while reading shows as a change next time.
    flow_set = FlowSet(max_digits=max_digits, fingerprint=fingerprint(folder))
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for path in flow_files(folder):
        if path.stem in seen:
            problems.append(
                Problem(
                    str(path),
                    1,
                    1,
                    ERROR,
                    f"flow '{path.stem}' is also defined by {seen[path.stem]}",
                )
            )
            continue
        seen[path.stem] = path
        flow, found = compile_file(path, max_digits=max_digits, platform=platform)
        problems += found
        if flow is not None:
            flow_set.flows[flow.name] = flow
    flow_set.warnings = sorted(p for p in problems if p.severity != ERROR)
    return flow_set, sorted(problems)


def load_flow_dir(folder: Path, *, max_digits: int) -> FlowSet:
    """Load a folder of flows for serving; raise :class:`FlowSetError` on any error."""
    flow_set, problems = check_flow_dir(folder, max_digits=max_digits)
    if any(p.severity == ERROR for p in problems):
        raise FlowSetError(problems)
    return flow_set
