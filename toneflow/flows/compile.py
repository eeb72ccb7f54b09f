"""Turn one flow file's text into a compiled :class:`~toneflow.flows.model.Flow`.

Every problem found is returned with its file position; a flow is only produced when
there are no errors. This is the code both start-up and ``toneflow lint`` run.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path as FilePath
from typing import Any

from marshmallow import ValidationError, fields

from schemas.base import KEY_PROBLEMS, did_you_mean, first_message
from schemas.fields import digit_limit
from schemas.flow import FlowFileSchema
from toneflow.dtmf.wire import WireTiming
from toneflow.flows import graph, model
from toneflow.flows.ozml_checks import ozml_notes
from toneflow.flows.platform_checks import platform_notes
from toneflow.flows.problems import ERROR, WARNING, Problem
from toneflow.flows.source import Path, Source, SourceError, read_source
from toneflow.flows.templates import RENDER_FAILURES, REQUEST_NAMES, render_failure
from toneflow.flows.timing_checks import timing_notes

#: marshmallow's message for a missing required field, reworded for flow authors.
REQUIRED = fields.Field.default_error_messages["required"]
#: marshmallow's message for a value that is not a string: a number, unquoted, says more.
NOT_A_STRING = fields.String.default_error_messages["invalid"]
#: A flow file larger than this is refused before parsing.
MAX_FLOW_BYTES = 1_048_576
#: One instance for every file: loading keeps no state on the schema, and building one
#: (marshmallow copies its declared fields) is a noticeable part of loading a flow.
FLOW_FILE_SCHEMA = FlowFileSchema()


def flatten_messages(messages: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Walk marshmallow's nested error messages, yielding (path, message) pairs."""
    if isinstance(messages, dict):
        for key, inner in messages.items():
            yield from flatten_messages(inner, (*path, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from flatten_messages(message, path)
    else:
        # Kept as given: a message may carry the position of one character (AtCharacter).
        yield path, messages if isinstance(messages, str) else str(messages)


def describe_path(path: Path) -> str:
    """``steps.connect[1].send_digits.digits``: where in the flow a message applies."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Compiler:
    def __init__(self, file: str, source: Source) -> None:
        self.file = file
        self.source = source
        self.problems: list[Problem] = []

    def error(
        self,
        path: Path,
        message: str,
        *,
        at_key: bool = False,
        severity: str = ERROR,
        position: int | None = None,
    ) -> None:
        """Report ``message`` at ``path``: at its key, at its value, or at one character."""
        position = getattr(message, "position", position)
        if position is not None and self._written_as_is(path):
            mark = self.source.char_mark(path, position)
        else:
            mark = self.source.mark_for(path, at_key=at_key)
        where = describe_path(path)
        text = f"{where}: {message}" if where and not message.startswith(where) else message
        self.problems.append(Problem(self.file, mark.line, mark.column, severity, str(text)))

    def _written_as_is(self, path: Path) -> bool:
        """The value at ``path`` is literal text in the file (not a template resolved from
        ``vars``), so a character position in it is a column in the file."""
        value: Any = self.source.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                break  # a shorthand's argument: the value stands at its action's key
        return isinstance(value, str) and not model.is_template(value)

    def report_source(self) -> None:
        """Problems met while reading that did not stop it (duplicate keys)."""
        for message, mark in self.source.problems:
            self.problems.append(Problem(self.file, mark.line, mark.column, ERROR, message))

    def validate(self) -> dict | None:
        if not isinstance(self.source.data, dict):
            self.error((), "a flow file is a mapping with at least `steps`")
            return None
        try:
            return FLOW_FILE_SCHEMA.load(self.source.data)
        except ValidationError as err:
            for path, message in flatten_messages(err.messages, ()):
                if message == REQUIRED and path:
                    # Said of the mapping that lacks the key, where the author adds it.
                    self.error(path[:-1], f"missing required key '{path[-1]}'")
                    continue
                if message == NOT_A_STRING:
                    message = self._unquoted_number(path) or message
                self.error(path, message, at_key=message.startswith(KEY_PROBLEMS))
            return None

    def _unquoted_number(self, path: Path) -> str | None:
        """``must be text, not a number: write '123' in quotes``, where text goes.

        The hint quotes the number as written: YAML reads ``+15551234567`` as
        15551234567, so quoting what it read would lose the ``+``.
        """
        where = path
        while where and where not in self.source.values:
            where = where[:-1]  # a shorthand (`send_digits: 123`) stands for its argument
        written = self.source.numbers.get(where)
        if written is None:
            return None
        return f"must be text, not a number: write '{written}' in quotes"

    def check_steps(self) -> None:
        """Every step a flow names must exist, no redirects may loop with no input in
        between, and every step should be reachable. Read from the raw data, so these
        are reported even when other parts of the file failed validation."""
        data = self.source.data
        steps = data.get("steps") if isinstance(data, dict) else None
        if not isinstance(steps, dict):
            return
        for ref in graph.references(data, steps):
            if isinstance(ref.target, str) and model.is_template(ref.target):
                continue  # the schema says a step name cannot be a template
            if isinstance(ref.target, str) and ref.target not in steps:
                self.error(
                    ref.path,
                    f"{ref.what} names step '{ref.target}', which does not exist"
                    f"{did_you_mean(ref.target, list(steps))}",
                )
        for path, message in graph.endless_loops(data, steps):
            self.error(path, message)
        for name in graph.unreachable(data, steps):
            self.error(
                ("steps", name),
                f"step '{name}' is never reached: no path leads to it from the start step "
                "or the fallback",
                at_key=True,
                severity=WARNING,
            )

    def check_ozml(self, loaded: dict) -> None:
        """Warn where a valid step will not sound the same, or not work, as OzML."""
        for note in ozml_notes(loaded["steps"]):
            self.error(note.path, note.message, severity=WARNING, position=note.position)

    def check_platform(self, loaded: dict, platform: str) -> None:
        """``lint --platform``: report digits the push platform cannot take as written."""
        timing = loaded.get("dtmf", WireTiming())
        for note in platform_notes(platform, timing, loaded["steps"]):
            self.error(note.path, note.message, position=note.position)

    def check_timing(self, loaded: dict) -> None:
        """Report DTMF timing a far end's detector may not hear (tone, gap, repeats)."""
        timing = loaded.get("dtmf", WireTiming())
        for severity, note in timing_notes(timing, loaded["steps"]):
            self.error(note.path, note.message, severity=severity, position=note.position)

    def resolve_constants(self, loaded: dict) -> None:
        """Render now the templates that use only the flow's ``vars``.

        They give the same value for every call, so their steps can be served as stored
        bytes, and a mistake in them (``vars.pin`` holding a letter) is reported here,
        with its position, instead of making calls fall back.
        """
        constants = {"vars": loaded.get("vars", {})}
        for name, body in loaded["steps"].items():
            if isinstance(body, model.Switch):
                continue
            actions = list(body)
            for index, action in enumerate(actions):
                changes = {}
                for field in model.templated_fields(action):
                    source: model.TemplateSource = getattr(action, field)
                    if not source.constant:
                        continue
                    path = ("steps", name, index, action.kind, field)
                    try:
                        changes[field] = source.resolve(constants)
                    except ValidationError as err:
                        self.error(path, f"with the flow's vars: {first_message(err.messages)}")
                    except RENDER_FAILURES as err:
                        reason = render_failure(err, constants)
                        self.error(path, f"with the flow's vars: {reason}")
                actions[index] = dataclasses.replace(action, **changes)
            loaded["steps"][name] = tuple(actions)

    def check_fallback(self, loaded: dict) -> None:
        """Warn, at the first template that reads the request, when there is no fallback.

        Such a template can fail for one call (``variables.code`` not sent), and with no
        ``fallback`` that call gets a 500 instead of a step. A switch is not counted: a
        value it cannot read goes to its ``default``.
        """
        if loaded.get("fallback") is not None:
            return
        for name, body in loaded["steps"].items():
            for index, action in enumerate(() if isinstance(body, model.Switch) else body):
                for field in model.templated_fields(action):
                    source: model.TemplateSource = getattr(action, field)
                    read = sorted(source.names & REQUEST_NAMES)
                    if read:
                        self.error(
                            ("steps", name, index, action.kind, field),
                            f"this template reads the request ({', '.join(read)}), but the "
                            "flow has no `fallback`: when it cannot render for a call, the "
                            "platform gets a 500; add `fallback: <step>`",
                            severity=WARNING,
                        )
                        return


def _steps(loaded: dict) -> dict[str, model.Step]:
    return {
        name: model.Step(name, switch=body)
        if isinstance(body, model.Switch)
        else model.Step(name, actions=body)
        for name, body in loaded["steps"].items()
    }


def flow_version(data: bytes) -> str:
    """A content hash, so a call's timeline says exactly which file served it."""
    return hashlib.sha256(data).hexdigest()[:12]


def compile_flow(
    name: str, file: str, data: bytes, *, max_digits: int, platform: str | None = None
) -> tuple[model.Flow | None, list[Problem]]:
    """Compile one flow file's bytes. Returns the flow (or None) and every problem found;
    with ``platform`` (``lint --platform``), also where its digits cannot be pushed there."""
    problems: list[Problem] = []
    if not model.NAME_PATTERN.match(name):
        problems.append(
            Problem(
                file,
                1,
                1,
                ERROR,
                f"the file name '{name}' is not a valid flow "
                "name: use lowercase letters, digits, '_' and '-'",
            )
        )
    if len(data) > MAX_FLOW_BYTES:
        return None, [
            *problems,
            Problem(file, 1, 1, ERROR, f"the file is larger than {MAX_FLOW_BYTES} bytes"),
        ]
    try:
        text = data.decode("utf-8")
        source = read_source(text)
    except UnicodeDecodeError as err:
        # Point at the first byte that is not UTF-8; everything before it decoded.
        before = data[: err.start].decode("utf-8")
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        return None, [
            *problems,
            Problem(file, line, column, ERROR, f"the file is not UTF-8: {err}"),
        ]
    except SourceError as err:
        mark = err.mark
        return None, [*problems, Problem(file, mark.line, mark.column, ERROR, err.message)]

    compiler = _Compiler(file, source)
    compiler.report_source()
    with digit_limit(max_digits):
        loaded = compiler.validate()
        if loaded is not None:
            compiler.resolve_constants(loaded)
            compiler.check_ozml(loaded)
            compiler.check_timing(loaded)
            compiler.check_fallback(loaded)
            if platform is not None:
                compiler.check_platform(loaded, platform)
    compiler.check_steps()
    problems += compiler.problems
    if loaded is None or any(p.severity == ERROR for p in problems):
        return None, problems
    steps = _steps(loaded)
    flow = model.Flow(
        name=name,
        path=file,
        version=flow_version(data),
        steps=steps,
        start=loaded.get("start") or next(iter(steps)),
        party=loaded.get("party", model.DEFAULT_PARTY),
        fallback=loaded.get("fallback"),
        description=loaded.get("description"),
        vars=loaded.get("vars", {}),
        dtmf=loaded.get("dtmf", WireTiming()),
        source=text,
    )
    return flow, problems


def compile_file(
    path: FilePath, *, max_digits: int, platform: str | None = None
) -> tuple[model.Flow | None, list[Problem]]:
    """Compile the flow file at ``path``; its name is the file stem."""
    return compile_flow(
        path.stem, str(path), path.read_bytes(), max_digits=max_digits, platform=platform
    )
