"""The timeline: what goes on the line, when, and what makes far ends miss digits.

The times are the wire plan's (:mod:`toneflow.dtmf.wire`): this module adds no timing
rule of its own, only the reading of the plan for people. The
warnings are for people (``toneflow dtmf timeline`` and ``check``): no pause after
connect, a key repeated with only the gap, a run of keys longer than the platform
documents.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from toneflow.dtmf.dialects import digit_dialect
from toneflow.dtmf.tokens import Key, Pause, Token, merge_pauses
from toneflow.dtmf.wire import Tone, WireTiming, wire_plan

ToneSpan = Tone
"""When one key sounds, in ms from the start of the send (the wire plan's :class:`Tone`)."""


@dataclass(frozen=True)
class TimelineWarning:
    """A timing risk: ``code`` for machines, ``message`` for people, and where."""

    code: str
    message: str
    position: int | None


@dataclass(frozen=True)
class Timeline:
    """Every tone's start and end, how long the send takes, and what looks risky."""

    tones: tuple[ToneSpan, ...]
    total_ms: int
    warnings: tuple[TimelineWarning, ...]


def timeline(
    seq: Iterable[Token],
    *,
    tone_ms: int = 100,
    gap_ms: int = 100,
    pause_before_ms: int = 0,
    dialect: str | None = None,
) -> Timeline:
    """Lay ``seq`` out in time and warn about what makes far ends miss digits.

    The times are :func:`~toneflow.dtmf.wire.wire_plan`'s for ``dialect`` (MiniVoice's
    rules when None): each key sounds for ``tone_ms``, keys are ``gap_ms`` apart, and a
    pause adds to the gap or replaces it as the dialect does. Time 0 is the start of the
    send action, so ``pause_before_ms`` comes first and ``total_ms`` includes it. With
    ``dialect``, runs of keys longer than that platform's documented limit are flagged too.
    """
    if pause_before_ms < 0:
        raise ValueError("pause_before_ms cannot be negative")
    timing = WireTiming(tone_ms, gap_ms)  # ValueError for impossible timing
    max_run = digit_dialect(dialect).max_run if dialect is not None else None
    tokens = merge_pauses(seq)
    plan = wire_plan(tokens, dialect or "minivoice", timing=timing, pause_before_ms=pause_before_ms)
    warnings = [
        *_no_pause_warning(tokens, pause_before_ms),
        *_repeat_warnings(tokens, gap_ms),
        *_run_warnings(tokens, dialect, max_run),
    ]
    warnings.sort(key=lambda w: w.position or 0)
    return Timeline(plan.tones, plan.total_ms, tuple(warnings))


def _no_pause_warning(tokens: tuple[Token, ...], pause_before_ms: int) -> list[TimelineWarning]:
    if pause_before_ms or not tokens or isinstance(tokens[0], Pause):
        return []
    message = (
        "digits start the moment the call connects; the far end may not be listening "
        "yet (add pause_before_ms or a leading pause)"
    )
    return [TimelineWarning("no_pause_after_connect", message, tokens[0].position)]


def _repeat_warnings(tokens: tuple[Token, ...], gap_ms: int) -> list[TimelineWarning]:
    warnings = []
    for before, after in itertools.pairwise(tokens):
        if isinstance(before, Key) and isinstance(after, Key) and before.key == after.key:
            message = (
                f"{after.key!r} at position {after.position} repeats the key before it "
                f"with only the {gap_ms} ms gap; some receivers hear one press"
            )
            warnings.append(TimelineWarning("repeated_key", message, after.position))
    return warnings


def _run_warnings(
    tokens: tuple[Token, ...], dialect: str | None, max_run: int | None
) -> list[TimelineWarning]:
    if max_run is None:
        return []
    warnings = []
    run = 0
    for token in tokens:
        run = run + 1 if isinstance(token, Key) else 0
        if run == max_run + 1:
            message = (
                f"key at position {token.position} is number {run} in a run without a "
                f"pause; {dialect} takes at most {max_run}"
            )
            warnings.append(TimelineWarning("run_too_long", message, token.position))
    return warnings
