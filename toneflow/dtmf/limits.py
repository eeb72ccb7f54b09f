"""What a DTMF detector at the far end can hear: the timing limits lint checks a plan by.

The figures are the AT&T detector requirements as quoted in Asterisk's ``main/dsp.c``
(a tone of at least 40 ms, at least 50 ms of silence between keys); ITU-T Q.24 asks
45 ms of tone but only 23 ms of silence. Measured here, spandsp (FreeSWITCH's DSP
library) decodes nothing at 30 ms of tone or less, and multimon-ng merges a repeated key
("66" heard as "6") at 10 ms gaps. So a tone under 40 ms is an error: keys will be
missed; a shorter gap, or a repeated key pressed again sooner, is a warning: some
receivers miss or merge keys, others do not.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from toneflow.dtmf.wire import Tone, WirePlan, WireTiming

MIN_TONE_MS = 40
"""Shortest tone a detector must accept (AT&T, as quoted in Asterisk's dsp.c)."""
MIN_GAP_MS = 50
"""Shortest silence between keys a detector must accept (AT&T, as in Asterisk's dsp.c)."""
MIN_REPEAT_GAP_MS = 50
"""Shortest silence between two presses of the same key before some receivers hear one."""

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class LimitBreach:
    """One timing a detector may not hear: ``field`` (``tone_ms``/``gap_ms``) for the
    declared timing, ``position`` (1-based, in the digits) for a key."""

    code: str
    severity: str
    message: str
    field: str | None = None
    position: int | None = None


def timing_breaches(timing: WireTiming) -> list[LimitBreach]:
    """What is wrong with a platform's tone and gap themselves, whatever the digits."""
    breaches = []
    if timing.tone_ms < MIN_TONE_MS:
        breaches.append(
            LimitBreach(
                "tone_too_short",
                ERROR,
                f"tone_ms {timing.tone_ms} is under {MIN_TONE_MS} ms, the shortest tone a "
                "detector must accept (AT&T, as quoted in Asterisk's dsp.c; spandsp hears "
                "nothing at 30 ms or less): the far end will miss keys",
                field="tone_ms",
            )
        )
    if timing.gap_ms < MIN_GAP_MS:
        breaches.append(
            LimitBreach(
                "gap_too_short",
                WARNING,
                f"gap_ms {timing.gap_ms} is under {MIN_GAP_MS} ms, the shortest silence "
                "between keys a detector must accept (AT&T, as quoted in Asterisk's dsp.c): "
                "some far ends will merge or miss keys",
                field="gap_ms",
            )
        )
    return breaches


def repeat_breaches(plan: WirePlan) -> list[LimitBreach]:
    """Each key pressed again, with less than :data:`MIN_REPEAT_GAP_MS` of silence, at
    the second press's position."""
    breaches = []
    for before, after in itertools.pairwise(plan.tones):
        silence = after.start_ms - before.end_ms
        if before.key == after.key and silence < MIN_REPEAT_GAP_MS:
            breaches.append(_repeat(after, silence))
    return breaches


def _repeat(tone: Tone, silence: int) -> LimitBreach:
    return LimitBreach(
        "repeat_too_close",
        WARNING,
        f"{tone.key!r} at position {tone.position} repeats the key before it after only "
        f"{silence} ms of silence (under {MIN_REPEAT_GAP_MS} ms): some receivers hear one press",
        position=tone.position,
    )


def plan_breaches(plan: WirePlan) -> list[LimitBreach]:
    """Every limit a plan breaks: its timing first, then its repeated keys in order."""
    return [*timing_breaches(plan.timing), *repeat_breaches(plan)]
