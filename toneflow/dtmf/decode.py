"""Hearing DTMF in audio: Goertzel per block, then key on/off logic, like a switch does.

Needs numpy: only ``toneflow dtmf decode`` imports this module. Audio at any rate is
first brought to 8 kHz (:func:`toneflow.dtmf.audio.resample`). Then, for blocks of 102
samples (12.75 ms, the block spandsp and Asterisk use) every 5 ms, the Goertzel filter
measures the eight DTMF frequencies. A block is a *hit* for a key when

- its strongest row and column tones are each above -36 dBm0 (Q.24: -25 dBm0 must be heard);
- the twist is inside 8 dB normal (column above row) and 4 dB reverse (AT&T/Asterisk);
- each is 8 dB above the other tones of its group (one key, not two);
- together they carry at least 60 % of the block's power (a tone, not noise or speech).

A key starts after two hits in a row and ends after two blocks that are not; a key
heard for less than 25 ms is dropped (Q.24 lets a receiver reject tones under 40 ms and
spandsp hears none at 30 ms; 25 ms keeps a 40 ms tone, which measures 36-44 ms, safe).
Start and end are placed where the tone's edge is for a hit block's overlap, so a clean
tone's times come out within a few ms of where it was rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toneflow.dtmf.audio import COLUMNS, ROWS, Audio, amplitude

RATE = 8000
BLOCK = 102
HOP = 40
_FREQS = np.array(ROWS + COLUMNS, dtype=np.float64)
_KEYS = ("123A", "456B", "789C", "*0#D")
MIN_DBM0 = -36.0
NORMAL_TWIST_DB = 8.0
REVERSE_TWIST_DB = 4.0
RELATIVE_PEAK_DB = 8.0
MIN_SHARE = 0.6
HITS_TO_START = 2
MISSES_TO_END = 2
MIN_HEARD_MS = 25
# Where a tone's edge lies in the first (last) hit block, in samples from its start
# (end): measured on rendered tones at every sample offset (tests/test_dtmf_decode.py).
EDGE_IN_BLOCK = 96


@dataclass(frozen=True)
class HeardKey:
    """One key heard, from ``start_ms`` to ``end_ms`` in the file."""

    key: str
    start_ms: int
    end_ms: int


def goertzel_powers(samples: np.ndarray) -> np.ndarray:
    """Each block's power at the eight DTMF frequencies (rows, then columns).

    One Goertzel recurrence per frequency, run over all blocks at once. Power is the
    mean square of that component (a sine of amplitude a gives a²/2), comparable with a
    block's mean square.
    """
    if len(samples) < BLOCK:
        return np.zeros((0, len(_FREQS)))
    frames = np.lib.stride_tricks.sliding_window_view(samples, BLOCK)[::HOP]
    coeff = 2 * np.cos(2 * np.pi * _FREQS / RATE)
    s1 = np.zeros((len(frames), len(_FREQS)))
    s2 = np.zeros_like(s1)
    for n in range(BLOCK):
        s0 = frames[:, n, None] + coeff * s1 - s2
        s2, s1 = s1, s0
    magnitude2 = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return 2 * np.maximum(magnitude2, 0) / BLOCK**2


def block_keys(samples: np.ndarray) -> list[str | None]:
    """The key each block is a hit for, or None."""
    powers = goertzel_powers(samples)
    if not len(powers):
        return []
    frames = np.lib.stride_tricks.sliding_window_view(samples, BLOCK)[::HOP]
    total = np.mean(frames * frames, axis=1)
    rows, cols = powers[:, :4], powers[:, 4:]
    r, c = rows.argmax(axis=1), cols.argmax(axis=1)
    index = np.arange(len(powers))
    pr, pc = rows[index, r], cols[index, c]
    floor = amplitude(MIN_DBM0) ** 2 / 2
    ok = (pr >= floor) & (pc >= floor)
    ok &= pc <= pr * 10 ** (NORMAL_TWIST_DB / 10)
    ok &= pr <= pc * 10 ** (REVERSE_TWIST_DB / 10)
    peak = 10 ** (RELATIVE_PEAK_DB / 10)
    other_rows = np.where(np.arange(4) == r[:, None], 0, rows).max(axis=1)
    other_cols = np.where(np.arange(4) == c[:, None], 0, cols).max(axis=1)
    ok &= (other_rows * peak <= pr) & (other_cols * peak <= pc)
    ok &= pr + pc >= MIN_SHARE * total
    return [_KEYS[r[i]][c[i]] if ok[i] else None for i in range(len(powers))]


def decode_samples(samples: np.ndarray) -> list[HeardKey]:
    """Every key heard in 8 kHz float ``samples``, in order."""
    blocks = block_keys(samples)
    heard: list[HeardKey] = []
    current: str | None = None
    first = last = 0
    run = misses = 0
    candidate: str | None = None
    for i, key in enumerate([*blocks, *([None] * MISSES_TO_END)]):
        if current is None:
            run = run + 1 if key is not None and key == candidate else int(key is not None)
            candidate = key
            if run >= HITS_TO_START:
                current, first, last, misses = key, i - run + 1, i, 0
            continue
        if key == current:
            last, misses = i, 0
            continue
        misses += 1
        if misses >= MISSES_TO_END:
            key_heard = _heard(current, first, last)
            if key_heard.end_ms - key_heard.start_ms >= MIN_HEARD_MS:
                heard.append(key_heard)
            current, candidate, run = None, key, int(key is not None)
    return heard


def _heard(key: str, first: int, last: int) -> HeardKey:
    start = first * HOP + (BLOCK - EDGE_IN_BLOCK)
    end = last * HOP + EDGE_IN_BLOCK
    return HeardKey(key, round(start * 1000 / RATE), round(end * 1000 / RATE))


def decode(audio: Audio) -> list[HeardKey]:
    """Every key heard in ``audio`` (any rate), with its start and end in ms."""
    from toneflow.dtmf.audio import resample

    return decode_samples(resample(audio.samples, audio.rate, RATE))
