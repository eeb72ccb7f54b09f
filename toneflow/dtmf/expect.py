"""Heard against planned: the first key missing, extra, or out of time, in words.

Pure (no numpy): the decoder's keys come in as (key, start_ms) pairs, the expectation is
a :class:`~toneflow.dtmf.wire.WirePlan`, so a recording can be checked against what
toneflow planned for it. Times are from the start of the file, which is the start of
the send (``pause_before_ms`` included) for audio ``toneflow dtmf render`` wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

from toneflow.dtmf.wire import Tone, WirePlan

TOLERANCE_MS = 20
"""How far a key's start may be from the plan's before it counts as early or late."""


def first_difference(
    plan: WirePlan, heard: Sequence[tuple[str, int]], *, tolerance_ms: int = TOLERANCE_MS
) -> str | None:
    """Say the first way ``heard`` (key, start_ms) differs from ``plan``, or None.

    In order: a key heard where another was planned is named as missing when the next
    heard key is the planned one after it, as extra when the planned key comes next in
    what was heard, and as wrong otherwise; then a start more than ``tolerance_ms`` off.
    """
    tones = plan.tones
    for i, tone in enumerate(tones):
        if i >= len(heard):
            return f"{_planned(i, tone)} was not heard (nothing heard after it)"
        key, start = heard[i]
        if key != tone.key:
            if i + 1 < len(tones) and key == tones[i + 1].key:
                return f"{_planned(i, tone)} was not heard"
            if i + 1 < len(heard) and heard[i + 1][0] == tone.key:
                return f"an extra {key!r} was heard at {start} ms, before {_planned(i, tone)}"
            return f"{_planned(i, tone)}: heard {key!r} at {start} ms instead"
        off = start - tone.start_ms
        if abs(off) > tolerance_ms:
            when = "late" if off > 0 else "early"
            return (
                f"{_planned(i, tone)} was heard at {start} ms, {abs(off)} ms {when} "
                f"(more than {tolerance_ms} ms)"
            )
    if len(heard) > len(tones):
        key, start = heard[len(tones)]
        return f"an extra {key!r} was heard at {start} ms, after the last planned key"
    return None


def _planned(index: int, tone: Tone) -> str:
    return (
        f"key {index + 1} ({tone.key!r}, position {tone.position}, planned at {tone.start_ms} ms)"
    )
