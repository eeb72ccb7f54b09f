"""DTMF as sound: a wire plan rendered to samples, G.711 µ-law, and WAV files.

Needs numpy, so only ``toneflow dtmf render``/``decode`` import this module (lazily):
the web workers never do, and their memory stays as it was.

Levels follow ITU-T Q.23/Q.24: the low (row) tone at -10 dBm0 and the high (column)
tone at -8 dBm0, a 2 dB "normal" twist (high above low), well inside the 4 dB reverse /
8 dB normal twist a receiver must accept and above the -25 dBm0 it must hear. 0 dBm0 is
a sine 3.17 dB under digital full scale (G.711's reference). Each tone has a 2 ms
raised-cosine rise and fall inside its length, so it does not click; every gap and pause
is exact digital silence.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toneflow.dtmf.wire import Tone, WirePlan

ROWS = (697, 770, 852, 941)
COLUMNS = (1209, 1336, 1477, 1633)
_LAYOUT = ("123A", "456B", "789C", "*0#D")
FREQUENCIES: dict[str, tuple[int, int]] = {
    key: (ROWS[r], COLUMNS[c]) for r, row in enumerate(_LAYOUT) for c, key in enumerate(row)
}
"""Each key's (row, column) frequency in Hz."""

LOW_DBM0 = -10.0
HIGH_DBM0 = -8.0
FULL_SCALE_DBM0 = 3.17
"""The level, in dBm0, of a full-scale sine (G.711)."""
RAMP_MS = 2
CODECS = ("pcm16", "ulaw")
_WAVE_FORMAT_PCM = 1
_WAVE_FORMAT_MULAW = 7
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


def amplitude(dbm0: float) -> float:
    """Peak amplitude (full scale = 1.0) of a sine at ``dbm0``."""
    return float(10 ** ((dbm0 - FULL_SCALE_DBM0) / 20))


def _index(ms: int, rate: int) -> int:
    return round(ms * rate / 1000)


def render_plan(plan: WirePlan, *, rate: int = 8000) -> np.ndarray:
    """The plan as float samples in [-1, 1] at ``rate``; silence is exact zeros.

    Sample positions come from each segment's start and end in ms, so rounding never
    accumulates: a tone at 4000 ms starts at sample 32000 at 8 kHz, however long the send.
    """
    out = np.zeros(_index(plan.total_ms, rate), dtype=np.float64)
    for tone in plan.tones:
        start, end = _index(tone.start_ms, rate), _index(tone.end_ms, rate)
        out[start:end] = _tone(tone, end - start, rate)
    return out


def _tone(tone: Tone, samples: int, rate: int) -> np.ndarray:
    low, high = FREQUENCIES[tone.key]
    t = np.arange(samples) / rate
    wave_ = amplitude(LOW_DBM0) * np.sin(2 * np.pi * low * t) + amplitude(HIGH_DBM0) * np.sin(
        2 * np.pi * high * t
    )
    ramp = min(_index(RAMP_MS, rate), samples // 2)
    if ramp:
        edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        wave_[:ramp] *= edge
        wave_[samples - ramp :] *= edge[::-1]
    return wave_


# --- G.711 µ-law -----------------------------------------------------------------------

_BIAS = 0x84
_CLIP14 = 8159  # the largest 14-bit magnitude µ-law encodes


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as 16-bit PCM (clipped, rounded)."""
    return np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16)


def ulaw_encode(pcm: np.ndarray) -> np.ndarray:
    """16-bit PCM to G.711 µ-law bytes.

    G.711's µ-law is defined on 14-bit samples: each 16-bit sample is rounded to 14 bits
    (as sox does), then coded by segment (exponent) and 4-bit step (mantissa), with the
    bias of 33 and the bits inverted, as in the reference implementation.
    """
    x14 = np.minimum((pcm.astype(np.int32) + 2) >> 2, 8191)
    mask = np.where(x14 < 0, 0x7F, 0xFF)
    value = np.minimum(np.abs(x14), _CLIP14) + (_BIAS >> 2)
    segment = np.floor(np.log2(value)).astype(np.int32) - 5
    step = (value >> (segment + 1)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (np.minimum(segment, 7) << 4) | step)
    return (code ^ mask).astype(np.uint8)


def ulaw_decode(codes: np.ndarray) -> np.ndarray:
    """G.711 µ-law bytes to 16-bit PCM."""
    u = ~codes.astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = (((u & 0x0F) << 3) + _BIAS) << exponent
    value = magnitude - _BIAS
    return np.where(u & 0x80, -value, value).astype(np.int16)


# --- WAV files ---------------------------------------------------------------------------


def write_wav(path: Path, samples: np.ndarray, *, rate: int = 8000, codec: str = "pcm16") -> None:
    """Write mono ``samples`` (float, [-1, 1]) as 16-bit PCM or G.711 µ-law WAV.

    PCM goes through the ``wave`` module. ``wave`` writes PCM only, so a µ-law file
    (format 7, what telephony tools record) gets its RIFF header from :func:`_ulaw_wav`.
    """
    pcm = to_int16(samples)
    if codec == "pcm16":
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm.astype("<i2").tobytes())
    elif codec == "ulaw":
        path.write_bytes(_ulaw_wav(ulaw_encode(pcm).tobytes(), rate))
    else:
        raise ValueError(f"unknown codec {codec!r} (known: {', '.join(CODECS)})")


def _ulaw_wav(data: bytes, rate: int) -> bytes:
    fmt = struct.pack("<HHIIHHH", _WAVE_FORMAT_MULAW, 1, rate, rate, 1, 8, 0)
    fact = struct.pack("<I", len(data))
    pad = b"\0" if len(data) % 2 else b""
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"fact"
        + struct.pack("<I", len(fact))
        + fact
        + b"data"
        + struct.pack("<I", len(data))
        + data
        + pad
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


@dataclass(frozen=True)
class Audio:
    """Mono float samples in [-1, 1] and their rate, as read from a file."""

    samples: np.ndarray
    rate: int


class AudioError(ValueError):
    """A file that is not audio toneflow can read, saying why."""


def read_wav(path: Path) -> Audio:
    """Read a WAV file: 8/16/24/32-bit PCM, 32-bit float or G.711 µ-law; channels mixed.

    The chunks are read here (``wave`` refuses µ-law and float files); malformed files
    raise :class:`AudioError` naming what is wrong.
    """
    data = path.read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError(f"{path}: not a WAV file (no RIFF/WAVE header)")
    chunks = _chunks(data[12:])
    if b"fmt " not in chunks or b"data" not in chunks:
        raise AudioError(f"{path}: a WAV file needs a 'fmt ' and a 'data' chunk")
    fmt = chunks[b"fmt "]
    if len(fmt) < 16:
        raise AudioError(f"{path}: the 'fmt ' chunk is too short")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _WAVE_FORMAT_EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]
    if channels < 1 or rate < 1:
        raise AudioError(f"{path}: {channels} channels at {rate} Hz is not audio")
    samples = _samples(chunks[b"data"], tag, bits, path)
    usable = len(samples) - len(samples) % channels
    mono = samples[:usable].reshape(-1, channels).mean(axis=1)
    return Audio(mono, rate)


def _chunks(data: bytes) -> dict[bytes, bytes]:
    chunks: dict[bytes, bytes] = {}
    offset = 0
    while offset + 8 <= len(data):
        name = data[offset : offset + 4]
        size = struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        chunks.setdefault(name, data[offset + 8 : offset + 8 + size])
        offset += 8 + size + (size % 2)
    return chunks


def _samples(raw: bytes, tag: int, bits: int, path: Path) -> np.ndarray:
    if tag == _WAVE_FORMAT_MULAW and bits == 8:
        return ulaw_decode(np.frombuffer(raw, dtype=np.uint8)) / 32768.0
    if tag == _WAVE_FORMAT_PCM and bits == 8:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) / 128.0
    if tag == _WAVE_FORMAT_PCM and bits == 16:
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2") / 32768.0
    if tag == _WAVE_FORMAT_PCM and bits == 24:
        b = np.frombuffer(raw[: len(raw) // 3 * 3], dtype=np.uint8).reshape(-1, 3)
        value = (
            b[:, 0].astype(np.int32)
            | (b[:, 1].astype(np.int32) << 8)
            | (b[:, 2].astype(np.int8).astype(np.int32) << 16)
        )
        return value / 8388608.0
    if tag == _WAVE_FORMAT_PCM and bits == 32:
        return np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<i4") / 2147483648.0
    if tag == 3 and bits == 32:
        return np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<f4").astype(np.float64)
    raise AudioError(
        f"{path}: WAV format {tag} with {bits}-bit samples is not supported "
        "(PCM 8/16/24/32-bit, float 32-bit, or G.711 µ-law)"
    )


def resample(samples: np.ndarray, rate: int, to: int) -> np.ndarray:
    """``samples`` at ``rate`` as ``to`` Hz: windowed-sinc low-pass, then interpolation.

    Enough for DTMF (every tone is under 1.7 kHz, far below any common rate's Nyquist):
    the low-pass at 45 % of the lower rate keeps aliases out of the tone bands.
    """
    if rate == to or not len(samples):
        return samples
    if rate > to:
        cutoff = 0.45 * to / rate  # of the source rate
        taps = 101
        n = np.arange(taps) - taps // 2
        kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
        samples = np.convolve(samples, kernel / kernel.sum(), mode="same")
    times = np.arange(round(len(samples) * to / rate)) * rate / to
    return np.interp(times, np.arange(len(samples)), samples)
