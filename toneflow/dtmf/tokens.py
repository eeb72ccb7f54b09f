"""What a parsed DTMF sequence is made of: ``Key`` and ``Pause`` tokens.

Tokens remember the 1-based character position they came from, so any error found
later (a key another platform lacks, a pause it cannot express) still points at the
character the flow author typed. Positions never take part in equality: two sequences
are equal when they sound the same.

Sequences are kept with their pauses merged: adjacent pauses become one (it keeps the
first position) and zero-length pauses vanish. Only then does "the same sequence" mean
one thing, which is what makes ``parse(render(s, d), d) == s`` hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeAlias

KEYS = "0123456789*#ABCD"
"""Every key a DTMF keypad has: the sixteen tones of the standard."""


@dataclass(frozen=True)
class Key:
    """One key press; ``position`` is where it was written (1-based), not part of equality."""

    key: str
    position: int = field(compare=False)

    def __post_init__(self) -> None:
        if len(self.key) != 1 or self.key not in KEYS:
            raise ValueError(f"not a DTMF key: {self.key!r} (keys are {KEYS})")


@dataclass(frozen=True)
class Pause:
    """Silence of ``ms`` milliseconds; ``position`` is where the run of pause characters began
    (None for a pause that is not in the text, such as ``pause_before_ms``)."""

    ms: int
    position: int | None = field(compare=False)

    def __post_init__(self) -> None:
        if self.ms < 0:
            raise ValueError(f"a pause cannot be negative: {self.ms} ms")


Token: TypeAlias = Key | Pause
"""One element of a parsed sequence."""


def merge_pauses(tokens: Iterable[Token]) -> tuple[Token, ...]:
    """Merge adjacent pauses and drop empty ones, so equal sounds compare equal.

    The merged pause keeps the first position, which is where its run began.
    """
    out: list[Token] = []
    for token in tokens:
        if isinstance(token, Pause):
            if token.ms == 0:
                continue
            if out and isinstance(out[-1], Pause):
                out[-1] = Pause(out[-1].ms + token.ms, out[-1].position)
                continue
        out.append(token)
    return tuple(out)
