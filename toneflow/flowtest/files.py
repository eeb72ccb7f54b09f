"""Read flow test files, with the same positions and messages as flow files get."""

from __future__ import annotations

from pathlib import Path

from marshmallow import ValidationError

from schemas.flowtest import FlowTestFile, FlowTestFileSchema
from toneflow.flows.compile import describe_path, flatten_messages
from toneflow.flows.problems import ERROR, Problem
from toneflow.flows.registry import flow_files
from toneflow.flows.source import SourceError, read_source


def find_test_files(paths: list[Path]) -> list[Path]:
    """The test files named, folders expanded to their ``*.yaml``/``*.yml`` (not recursive)."""
    found: list[Path] = []
    for path in paths:
        found += flow_files(path) if path.is_dir() else [path]
    return found


def load_test_file(path: Path) -> tuple[FlowTestFile | None, list[Problem]]:
    """Parse and validate one test file; every problem with its line and column."""
    file = str(path)
    try:
        source = read_source(path.read_text("utf-8"))
    except (SourceError, UnicodeDecodeError) as err:
        mark = getattr(err, "mark", None)
        line, column = (mark.line, mark.column) if mark else (1, 1)
        return None, [Problem(file, line, column, ERROR, getattr(err, "message", str(err)))]
    problems = [Problem(file, m.line, m.column, ERROR, text) for text, m in source.problems]
    try:
        loaded = FlowTestFileSchema().load(source.data)
    except ValidationError as err:
        for where, message in flatten_messages(err.messages, ()):
            mark = source.mark_for(where, at_key=message.startswith("unknown key"))
            text = f"{describe_path(where)}: {message}" if where else message
            problems.append(Problem(file, mark.line, mark.column, ERROR, text))
        return None, sorted(problems)
    return (None if problems else loaded), problems
