"""OzML timing: how a sequence maps onto ``Delay`` and ``SendDTMF`` groups.

OzML writes silence as a separate ``<Delay>`` element of whole seconds and keys as
``<SendDTMF Keys=…>`` runs of ``0-9 * #``. This module decides the groups and their
lengths (rounded up: too little silence is the usual cause of missed digits, too much
is harmless) and what lint should say about the rounding. The XML elements themselves
are built in :mod:`toneflow.render.ozml`, where response bodies are made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from toneflow.dtmf.dialects import digit_dialect
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.spelling import check_writable, spell_key
from toneflow.dtmf.tokens import Key, Pause, Token, merge_pauses


def whole_seconds(ms: int) -> int:
    """Round ``ms`` up to whole seconds, as OzML's ``Delay`` and ``Timeout`` need.

    Up, never down: too little silence or too short a timeout loses digits, while a
    little extra is harmless.
    """
    if ms < 0:
        raise ValueError(f"a duration cannot be negative: {ms} ms")
    return -(-ms // 1000)


@dataclass(frozen=True)
class OzmlDelay:
    """A ``<Delay>``: ``seconds`` written, ``exact_ms`` asked for (rounded up to seconds).

    ``position`` is where the pause began; None when it is ``pause_before_ms`` alone.
    ``includes_pause_before`` says ``pause_before_ms`` is part of ``exact_ms``.
    """

    seconds: int
    exact_ms: int
    position: int | None = field(compare=False)
    includes_pause_before: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class OzmlKeys:
    """A ``<SendDTMF Keys=…>``: one run of keys, ``position`` of its first key."""

    keys: str
    position: int = field(compare=False)


OzmlSegment = OzmlDelay | OzmlKeys
"""One OzML group: a Delay or a run of keys."""


@dataclass(frozen=True)
class _PauseRun:
    ms: int
    position: int | None
    includes_pause_before: bool


def _pause_runs(seq: Iterable[Token], pause_before_ms: int) -> Iterator[_PauseRun | Key]:
    """Yield keys, and each run of silence with ``pause_before_ms`` joining the first."""
    if pause_before_ms < 0:
        raise ValueError(f"pause_before_ms cannot be negative: {pause_before_ms}")
    tokens = merge_pauses(seq)
    pending = _PauseRun(pause_before_ms, None, pause_before_ms > 0)
    if tokens and isinstance(tokens[0], Pause):
        first = tokens[0]
        pending = _PauseRun(pause_before_ms + first.ms, first.position, pause_before_ms > 0)
        tokens = tokens[1:]
    if pending.ms:
        yield pending
    for token in tokens:
        yield token if isinstance(token, Key) else _PauseRun(token.ms, token.position, False)


def ozml_segments(seq: Iterable[Token], *, pause_before_ms: int = 0) -> list[OzmlSegment]:
    """Split ``seq`` into the Delay and SendDTMF groups OzML needs, in order.

    Each run of silence becomes one Delay of whole seconds, rounded up (too little
    silence is the usual cause of missed digits; too much is harmless), with
    ``pause_before_ms`` joining a pause that opens the digits. A zero pause writes no
    Delay. ``A-D`` raise DtmfError: Ozeki documents only ``0-9 * #`` for ``Keys``.
    """
    ozml = digit_dialect("ozml")
    segments: list[OzmlSegment] = []
    for item in _pause_runs(seq, pause_before_ms):
        if isinstance(item, _PauseRun):
            seconds = whole_seconds(item.ms)
            segments.append(OzmlDelay(seconds, item.ms, item.position, item.includes_pause_before))
            continue
        char = spell_key(ozml, item, None)
        last = segments[-1] if segments else None
        if isinstance(last, OzmlKeys):
            segments[-1] = OzmlKeys(last.keys + char, last.position)
        else:
            segments.append(OzmlKeys(char, item.position))
    return segments


def exact_ozml_segments(
    seq: Iterable[Token], *, round_up: bool = False, source: str | None = None
) -> list[OzmlSegment]:
    """The groups for ``seq``, refusing a pause that is not whole seconds unless ``round_up``.

    What ``toneflow dtmf convert``/``export --to ozml`` write: exact like every other
    dialect, failing at the first problem in order, naming ``source``'s character.
    """
    tokens = merge_pauses(seq)
    if not tokens:
        raise DtmfError("DTMF sequence is empty", dialect="ozml")
    check_writable(tokens, "ozml", round_up=round_up, source=source)
    return ozml_segments(tokens)


@dataclass(frozen=True)
class RoundingNote:
    """A pause OzML will lengthen to whole seconds; ``str()`` is the lint message."""

    exact_ms: int
    seconds: int
    position: int | None
    includes_pause_before: bool = False

    def __str__(self) -> str:
        if self.position is None:
            where = "before the digits (pause_before_ms)"
        elif self.includes_pause_before:
            where = f"at position {self.position} (with pause_before_ms)"
        else:
            where = f"at position {self.position}"
        return f"a {self.exact_ms} ms pause {where} becomes {self.seconds} s in OzML"


def rounding_notes(seq: Iterable[Token], *, pause_before_ms: int = 0) -> list[RoundingNote]:
    """List every pause OzML would round up, for lint to warn about.

    Works on sequences with ``A-D`` too: lint reports those separately.
    """
    notes: list[RoundingNote] = []
    for item in _pause_runs(seq, pause_before_ms):
        if isinstance(item, _PauseRun) and item.ms % 1000:
            seconds = whole_seconds(item.ms)
            notes.append(RoundingNote(item.ms, seconds, item.position, item.includes_pause_before))
    return notes
