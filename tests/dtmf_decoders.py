"""Two DTMF decoders nobody on this project wrote, for the tests to check toneflow against.

- spandsp's ``dtmf_rx`` (Debian ``libspandsp2``, FreeSWITCH's DSP library) through ctypes,
  with its realtime callback reporting each tone's start (code = key) and end (code 0);
  its reports lag the audio (24-37 ms at the start, the notes measured), so callers
  compare timings after removing the mean lag.
- ``multimon-ng -a DTMF`` (Debian), fed raw 16-bit samples at 22050 Hz on stdin (the
  rate it decodes at), so no sox is needed for it here; it reports keys only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from toneflow.dtmf.audio import resample, to_int16

_DIGITS_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int)
_TONE_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int)


def _spandsp() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("spandsp") or "libspandsp.so.2"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.dtmf_rx_init.restype = ctypes.c_void_p
    lib.dtmf_rx_init.argtypes = [ctypes.c_void_p, _DIGITS_CALLBACK, ctypes.c_void_p]
    lib.dtmf_rx_set_realtime_callback.argtypes = [ctypes.c_void_p, _TONE_CALLBACK, ctypes.c_void_p]
    lib.dtmf_rx.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16), ctypes.c_int]
    lib.dtmf_rx.restype = ctypes.c_int
    lib.dtmf_rx_free.argtypes = [ctypes.c_void_p]
    return lib


SPANDSP = _spandsp()
MULTIMON = shutil.which("multimon-ng")


@dataclass(frozen=True)
class Heard:
    key: str
    start_ms: float
    end_ms: float


def spandsp_keys(samples: np.ndarray, rate: int = 8000, chunk: int = 8) -> list[Heard]:
    """Each key spandsp hears in float ``samples``, with its (lagging) start and end in ms."""
    assert SPANDSP is not None, "libspandsp2 is not installed"
    pcm = to_int16(resample(samples, rate, 8000))
    events: list[tuple[int, float]] = []
    fed = 0

    @_TONE_CALLBACK
    def on_tone(_user, code, _level, _delay):
        events.append((code, fed * 1000 / 8000))

    @_DIGITS_CALLBACK
    def on_digits(_user, _digits, _length):  # unused: the realtime callback takes over
        pass

    state = SPANDSP.dtmf_rx_init(None, on_digits, None)
    SPANDSP.dtmf_rx_set_realtime_callback(state, on_tone, None)
    try:
        buffer = np.ascontiguousarray(pcm)
        pointer = buffer.ctypes.data_as(ctypes.POINTER(ctypes.c_int16))
        for offset in range(0, len(buffer), chunk):
            n = min(chunk, len(buffer) - offset)
            fed = offset + n
            SPANDSP.dtmf_rx(
                state,
                ctypes.cast(
                    ctypes.byref(pointer.contents, offset * 2), ctypes.POINTER(ctypes.c_int16)
                ),
                n,
            )
        silence = np.zeros(800, dtype=np.int16)  # flush a key still sounding at the end
        fed += len(silence)
        SPANDSP.dtmf_rx(state, silence.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)), 800)
    finally:
        SPANDSP.dtmf_rx_free(state)
    heard: list[Heard] = []
    current: tuple[str, float] | None = None
    for code, at in events:
        if code:
            current = (chr(code), at)
        elif current is not None:
            heard.append(Heard(current[0], current[1], at))
            current = None
    return heard


def multimon_keys(samples: np.ndarray, rate: int = 8000) -> str:
    """The keys multimon-ng hears in float ``samples``, in order, as one string."""
    assert MULTIMON is not None, "multimon-ng is not installed"
    pcm = to_int16(resample(samples, rate, 22050))
    padded = np.concatenate([pcm, np.zeros(22050 // 2, dtype=np.int16)])
    result = subprocess.run(
        [MULTIMON, "-q", "-c", "-a", "DTMF", "-t", "raw", "-"],
        input=padded.astype("<i2").tobytes(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    lines = result.stdout.decode().splitlines()
    return "".join(line.split(":", 1)[1].strip() for line in lines if line.startswith("DTMF:"))
