"""What the far end heard, held against the wire plans the driver played.

The keys come from two decoders nobody here wrote (``dtmf_decoders``: spandsp and
multimon-ng); the timings from spandsp alone (multimon-ng reports no times). spandsp's
onsets lag the audio by 24-37 ms, but every time here is a difference between two of its
onsets, so the lag cancels out:

- a send's time 0 is its clock mark's onset plus the mark's length (``Send.lead_ms``), so
  the first key's offset from time 0 is the ``pause_before_ms`` heard;
- each later key's pause is its onset minus the previous key's, against the plan's
  difference between their starts (tone, gap and any pause characters).
"""

from __future__ import annotations

from dataclasses import dataclass

from dtmf_decoders import Heard
from sip_driver import MARK, Send

PAUSE_TOLERANCE_MS = 50
"""How far a pause heard may be from the plan's (issue 12: "every pause within 50 ms")."""


@dataclass(frozen=True)
class Pause:
    """The silence before one key: planned against heard, in ms."""

    send: int
    key: str
    position: int
    kind: str  # "pause_before" (from the send's start) or "since previous key"
    planned_ms: float
    heard_ms: float
    offset_ms: float
    """The key's onset against the plan, from the send's time 0 (drift shows here)."""

    @property
    def error_ms(self) -> float:
        return self.heard_ms - self.planned_ms


def expected_keys(sends: list[Send]) -> str:
    """What the far end should hear: each send's clock mark, then its keys."""
    return "".join(MARK + "".join(tone.key for tone in send.plan.tones) for send in sends)


def pauses(sends: list[Send], heard: list[Heard]) -> list[Pause]:
    """Every key's pause as heard, for ``heard`` already known to be ``expected_keys``."""
    found: list[Pause] = []
    onsets = iter(heard)
    for number, send in enumerate(sends, start=1):
        zero = next(onsets).start_ms + send.lead_ms  # the mark's onset, plus its length
        previous = None
        for tone in send.plan.tones:
            key = next(onsets)
            offset = key.start_ms - zero - tone.start_ms
            if previous is None:
                found.append(
                    Pause(number, tone.key, tone.position, "pause_before", tone.start_ms,
                          key.start_ms - zero, offset)
                )  # fmt: skip
            else:
                planned_tone, heard_key = previous
                found.append(
                    Pause(number, tone.key, tone.position, "since previous key",
                          tone.start_ms - planned_tone.start_ms,
                          key.start_ms - heard_key.start_ms, offset)
                )  # fmt: skip
            previous = (tone, key)
    return found


def report(flow: str, sends: list[Send], spandsp: str, multimon: str, found: list[Pause]) -> str:
    """The figures as a table, for the terminal summary and any assertion message."""
    served = ", ".join(f"{s.digits!r} after {s.pause_before_ms} ms" for s in sends)
    lines = [
        f"SIP call, {flow}: served {served}; spandsp heard {spandsp}, multimon-ng heard "
        f"{multimon} (each send after a {MARK} clock mark)",
        f"  {'send':>4} {'key':>3} {'pos':>3}  {'pause':<18} {'planned':>8} {'heard':>8} "
        f"{'error':>6} {'offset':>7}",
    ]
    lines += [
        f"  {p.send:>4} {p.key:>3} {p.position:>3}  {p.kind:<18} {p.planned_ms:>8.0f} "
        f"{p.heard_ms:>8.1f} {p.error_ms:>+6.1f} {p.offset_ms:>+7.1f}"
        for p in found
    ]
    if found:
        worst = max(found, key=lambda p: abs(p.error_ms))
        lines.append(
            f"  largest pause error {worst.error_ms:+.1f} ms (key {worst.key!r} of send "
            f"{worst.send}); tolerance {PAUSE_TOLERANCE_MS} ms"
        )
    return "\n".join(lines)
