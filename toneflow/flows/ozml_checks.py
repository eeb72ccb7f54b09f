"""Warnings about how a valid flow will sound when served as OzML.

Any step may be fetched as OzML (the dialect is in the URL), and OzML is narrower than
MiniVoice: ``Keys`` has no ``A-D``, and silence is whole seconds. These are warnings,
not errors: the flow is right for MiniVoice. The rules themselves live in
:mod:`toneflow.dtmf.ozml_timing`; this module only finds where in a flow they apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from toneflow.dtmf.ozml_timing import rounding_notes, whole_seconds
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.spelling import unsendable
from toneflow.flows import model
from toneflow.flows.source import Path


@dataclass(frozen=True)
class Note:
    """One warning: ``path`` in the file and, for a character of a value, its ``position``."""

    path: Path
    message: str
    position: int | None = None


def ozml_notes(steps: dict[str, model.Step | tuple | model.Switch]) -> Iterator[Note]:
    """Every OzML warning for compiled steps (``name`` → actions), in file order."""
    for name, body in steps.items():
        if isinstance(body, model.Switch):
            continue
        for index, action in enumerate(body):
            path: Path = ("steps", name, index, action.kind)
            if isinstance(action, model.SendDigits):
                yield from _digit_notes(action, path)
            elif isinstance(action, model.CollectDigits):
                yield from _timeout_notes(action, path)


def _digit_notes(action: model.SendDigits, path: Path) -> Iterator[Note]:
    if not isinstance(action.digits, str):
        return  # rendered per request: checked then, when it is served
    digits_path = (*path, "digits")
    sequence = parse(action.digits, "minivoice")
    for err in unsendable(sequence, "ozml"):
        yield Note(
            digits_path,
            f"{err}: served as OzML, this step fails",
            err.position,
        )
    pause = action.pause_before_ms or 0
    if not isinstance(pause, int):
        return
    for note in rounding_notes(sequence, pause_before_ms=pause):
        where = digits_path if note.position is not None else (*path, "pause_before_ms")
        yield Note(where, f"{note} (rounded up to whole seconds)", note.position)


def _timeout_notes(action: model.CollectDigits, path: Path) -> Iterator[Note]:
    timeout = action.timeout_ms
    if isinstance(timeout, int) and timeout % 1000:
        yield Note(
            (*path, "timeout_ms"),
            f"timeout_ms {timeout} becomes Timeout {whole_seconds(timeout)} s in OzML "
            "(rounded up to whole seconds)",
        )
