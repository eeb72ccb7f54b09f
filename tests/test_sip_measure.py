"""The SIP call test's yardstick, without the call: the driver's audio heard straight from
the file measures within spandsp's granularity, and a pause lost on the wire is caught."""

from __future__ import annotations

import numpy as np
import pytest
from dtmf_decoders import SPANDSP, spandsp_keys
from sip_driver import Send, render_send
from sip_measure import PAUSE_TOLERANCE_MS, expected_keys, pauses, report
from support import require

from toneflow.dtmf.wire import WireTiming

RATE = 8000
SEND = ("1234*WWWWW6654#", 4000)
DEFAULT = WireTiming()


@pytest.fixture(autouse=True)
def _spandsp():
    require(SPANDSP is not None, "spandsp (Debian libspandsp2)")


def recording(*parts: np.ndarray) -> np.ndarray:
    """A far end's recording: 0.7 s of line before the send (the mark comes any time)."""
    return np.concatenate([np.zeros(RATE * 7 // 10), *parts, np.zeros(RATE)])


def served(digits: str, pause_before_ms: int, timing: WireTiming = DEFAULT) -> Send:
    plan, lead_ms, _ = render_send(digits, pause_before_ms, timing)
    return Send("http://toneflow.test/answer", digits, pause_before_ms, plan, lead_ms)


@pytest.mark.parametrize("timing", [WireTiming(), WireTiming(70, 70), WireTiming(200, 400)])
def test_the_driver_s_own_audio_measures_every_pause_within_spandsp_s_granularity(timing):
    send = served(*SEND, timing)
    _, _, samples = render_send(*SEND, timing)
    heard = spandsp_keys(recording(samples))
    assert "".join(k.key for k in heard) == expected_keys([send]) == "D1234*6654#"
    found = pauses([send], heard)
    assert [p.kind for p in found] == ["pause_before"] + ["since previous key"] * 9
    assert found[0].planned_ms == 4000
    assert found[5].planned_ms == timing.tone_ms + timing.gap_ms + 5000  # "*", gap, WWWWW
    assert max(abs(p.error_ms) for p in found) <= 15, report("x", [send], "", "", found)


def test_a_pause_collapsed_on_the_wire_is_caught_at_its_key():
    send = served(*SEND)
    _, _, samples = render_send("1234*W6654#", 4000, DEFAULT)  # four seconds lost
    found = pauses([send], spandsp_keys(recording(samples)))
    late = [p for p in found if abs(p.error_ms) > PAUSE_TOLERANCE_MS]
    assert [(p.key, p.position, round(p.error_ms, -2)) for p in late] == [("6", 11, -4000)]


def test_a_pause_before_that_was_not_waited_is_caught_at_the_first_key():
    send = served(*SEND)
    _, _, samples = render_send(SEND[0], 0, DEFAULT)
    found = pauses([send], spandsp_keys(recording(samples)))
    late = [p for p in found if abs(p.error_ms) > PAUSE_TOLERANCE_MS]
    assert [(p.key, p.kind, round(p.error_ms, -2)) for p in late] == [("1", "pause_before", -4000)]
    figures = report("x", [send], "", "", found)
    assert "largest pause error -3996.0 ms (key '1' of send 1)" in figures


def test_two_sends_each_have_their_own_mark():
    first, second = served("12", 500), served("3#", 0)
    audio = [render_send("12", 500, DEFAULT)[2], np.zeros(RATE // 2)]
    audio.append(render_send("3#", 0, DEFAULT)[2])
    heard = spandsp_keys(recording(*audio))
    assert "".join(k.key for k in heard) == expected_keys([first, second]) == "D12D3#"
    found = pauses([first, second], heard)
    assert [(p.send, p.key, p.kind) for p in found] == [
        (1, "1", "pause_before"),
        (1, "2", "since previous key"),
        (2, "3", "pause_before"),
        (2, "#", "since previous key"),
    ]
    assert max(abs(p.error_ms) for p in found) <= 15
