"""The wire plan: what one ``send_digits`` puts on the line, tone by tone, in ms.

One model, read by everything that reasons about time: the timeline and its warnings,
the timing lint (:mod:`~toneflow.dtmf.limits`), the audio renderer and the decoder's
``--expect``. A plan is made of segments laid end to end from time 0 (the moment the
action starts): ``pause_before_ms``, then each key's tone, the gap after it, and the
silence of each pause character.

Tone and gap lengths are assumptions about the platform, not fields of the payload, so
they come from the flow's ``dtmf:`` block or the CLI's ``--tone-ms``/``--gap-ms``
(:class:`WireTiming`, 100/100 ms by default). What a pause does is the dialect's rule
(:attr:`~toneflow.dtmf.dialects.DigitDialect.pause_replaces_gap`): on most platforms a
pause is *added* after the gap that follows a key (Asterisk's ``SendDTMF`` sleeps its
gap after every key, then 500 ms for ``w``); where silence is a separate element (OzML's
``<Delay>``) it stands in the gap's place, and is whole seconds, rounded up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from toneflow.dtmf.dialects import digit_dialect
from toneflow.dtmf.tokens import Key, Pause, Token, merge_pauses

DEFAULT_TONE_MS = 100
"""How long each key sounds when neither the flow nor the command line says."""
DEFAULT_GAP_MS = 100
"""Silence between two keys when neither the flow nor the command line says."""


@dataclass(frozen=True)
class WireTiming:
    """The platform's tone length and inter-key gap, in ms (a flow's ``dtmf:`` block)."""

    tone_ms: int = DEFAULT_TONE_MS
    gap_ms: int = DEFAULT_GAP_MS

    def __post_init__(self) -> None:
        if self.tone_ms <= 0 or self.gap_ms < 0:
            raise ValueError("tone_ms must be positive and gap_ms not negative")


@dataclass(frozen=True)
class Tone:
    """One key sounding from ``start_ms`` to ``end_ms``; ``position`` is where it was written."""

    key: str
    position: int
    start_ms: int
    end_ms: int


PAUSE_BEFORE = "pause_before"
GAP = "gap"
PAUSE = "pause"


@dataclass(frozen=True)
class Silence:
    """Silence from ``start_ms`` to ``end_ms``: ``cause`` is ``pause_before``, ``gap`` or
    ``pause``; ``position`` is the pause character's (None for the others)."""

    cause: str
    start_ms: int
    end_ms: int
    position: int | None = None


Segment = Tone | Silence


@dataclass(frozen=True)
class WirePlan:
    """A send laid out in time: ``segments`` end to end from 0, under one dialect's rules."""

    dialect: str
    timing: WireTiming
    pause_before_ms: int
    segments: tuple[Segment, ...]

    @property
    def tones(self) -> tuple[Tone, ...]:
        """Only the tones, in order."""
        return tuple(s for s in self.segments if isinstance(s, Tone))

    @property
    def total_ms(self) -> int:
        """How long the send takes, ``pause_before_ms`` and any trailing pause included."""
        return self.segments[-1].end_ms if self.segments else 0


def wire_plan(
    seq: Iterable[Token],
    dialect: str = "minivoice",
    *,
    timing: WireTiming = WireTiming(),
    pause_before_ms: int = 0,
) -> WirePlan:
    """Lay ``seq`` (parsed tokens) out on the line as ``dialect``'s platform sends it.

    Keys are ``timing.gap_ms`` apart. After a key that something follows comes the gap;
    a pause adds its silence after that gap, unless the dialect's pauses replace the gap
    (OzML), where the pause stands in its place and is rounded up to whole seconds, with
    ``pause_before_ms`` joining a pause that opens the digits (one ``<Delay>``).
    """
    if pause_before_ms < 0:
        raise ValueError(f"pause_before_ms cannot be negative: {pause_before_ms}")
    d = digit_dialect(dialect)
    tokens = merge_pauses(seq)
    segments: list[Segment] = []
    now = 0

    def add(segment: Segment) -> None:
        nonlocal now
        segments.append(segment)
        now = segment.end_ms

    if d.delay_unit_ms is not None and tokens and isinstance(tokens[0], Pause):
        first = tokens[0]  # OzML: one Delay holds pause_before_ms and an opening pause
        tokens = tokens[1:]
        cause = PAUSE_BEFORE if pause_before_ms else PAUSE
        lead = _on_wire(d.delay_unit_ms, pause_before_ms + first.ms)
        add(Silence(cause, 0, lead, first.position))
    elif pause_before_ms:
        add(Silence(PAUSE_BEFORE, 0, _on_wire(d.delay_unit_ms, pause_before_ms)))
    for index, token in enumerate(tokens):
        if isinstance(token, Pause):
            add(Silence(PAUSE, now, now + _on_wire(d.delay_unit_ms, token.ms), token.position))
            continue
        add(Tone(token.key, token.position, now, now + timing.tone_ms))
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        gap_follows = isinstance(following, Key) or (
            isinstance(following, Pause) and not d.pause_replaces_gap
        )
        if gap_follows and timing.gap_ms:
            add(Silence(GAP, now, now + timing.gap_ms))
    return WirePlan(d.name, timing, pause_before_ms, tuple(segments))


def _on_wire(unit_ms: int | None, ms: int) -> int:
    """The silence the platform makes for ``ms``: rounded up to its unit when it has one."""
    return ms if unit_ms is None else -(-ms // unit_ms) * unit_ms
