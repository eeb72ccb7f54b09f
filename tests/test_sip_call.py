"""A real SIP call: the digits toneflow serves, played on a real SIP stack, are heard.

toneflow runs under gunicorn. Two baresip user agents call each other on loopback with
G.711 PCMU (``sip_agents``); the far end answers by itself and records what it receives.
The driver (``sip_driver``, the only part that is ours) plays the platform: it fetches
the flow's answer_url, follows redirects, and plays each ``send_digits`` into the call
in-band, rendered by toneflow from the same wire plan (``pause_before_ms`` included).
Then spandsp and multimon-ng, both other people's decoders, must hear exactly the flow's
keys in the far end's recording, and every pause (``pause_before_ms`` and the time
between keys) must be within 50 ms of the plan (``sip_measure``). The figures are shown
in the run's summary.

Needs Debian's baresip-core, libspandsp2, multimon-ng: skipped without them, except in
CI, which installs them (.ci/run) and where a missing one fails the test.
"""

from __future__ import annotations

import pytest
from dtmf_decoders import MULTIMON, SPANDSP, multimon_keys, spandsp_keys
from sip_agents import BARESIP, caller_and_callee, stop
from sip_driver import Platform
from sip_measure import PAUSE_TOLERANCE_MS, expected_keys, pauses, report
from support import PROJECT_FLOWS, free_port, require, server_env, start, wait_until_up
from support import stop as stop_server

from toneflow.dtmf.audio import read_wav
from toneflow.dtmf.parsing import DEFAULT_MAX_DIGITS
from toneflow.flows.compile import compile_file

pytestmark = pytest.mark.slow  # gunicorn, two SIP agents and a call of several seconds

CASES = [
    pytest.param(
        "appointment", {"confirmation_code": "1234"}, [("1234#", 2000)], "1234#",
        id="appointment",
    ),
    pytest.param(
        "conference_pin", {}, [("1234*WWWWW6654#", 4000)], "1234*6654#",
        id="conference_pin",
    ),
]  # fmt: skip


@pytest.fixture
def toneflow_url(tmp_path):
    """toneflow under gunicorn, serving the shipped flows on a free port."""
    folder = tmp_path / "toneflow"
    folder.mkdir()
    port = free_port()
    process = start(folder, server_env(folder, port), port)
    try:
        wait_until_up(process, port, folder)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


@pytest.fixture
def agents(tmp_path):
    """The platform's SIP agent and the far end's, stopped at teardown whatever happens."""
    require(BARESIP is not None, "baresip (Debian baresip-core)")
    require(SPANDSP is not None, "spandsp (Debian libspandsp2)")
    require(MULTIMON is not None, "multimon-ng (Debian multimon-ng)")
    with caller_and_callee(tmp_path / "sip") as pair:
        yield pair


@pytest.mark.parametrize(("flow", "variables", "served", "keys"), CASES)
def test_the_far_end_hears_every_key_and_pause_on_a_real_sip_call(
    flow, variables, served, keys, agents, toneflow_url, tmp_path, record_property
):
    caller, callee = agents
    compiled, problems = compile_file(PROJECT_FLOWS / f"{flow}.yaml", max_digits=DEFAULT_MAX_DIGITS)
    assert compiled is not None, problems
    caller.control.command("dial", callee.uri)
    caller.control.wait_event("CALL_ESTABLISHED")
    callee.control.wait_event("CALL_ESTABLISHED")

    call = {"id": f"sip_{flow}", "from": "+15551230001", "to": "+15551230002"}
    sends = Platform(toneflow_url, caller, tmp_path, compiled.dtmf).run(flow, call, variables)
    callee.control.wait_event("CALL_CLOSED")
    stop(callee)  # baresip completes the recording's WAV header as it exits

    recording = read_wav(callee.received())
    heard = spandsp_keys(recording.samples, recording.rate)
    by_spandsp = "".join(key.key for key in heard)
    by_multimon = multimon_keys(recording.samples, recording.rate)
    assert [(send.digits, send.pause_before_ms) for send in sends] == served
    assert "".join(tone.key for send in sends for tone in send.plan.tones) == keys
    expected = expected_keys(sends)
    timed = pauses(sends, heard) if by_spandsp == expected else []
    figures = report(flow, sends, by_spandsp, by_multimon, timed)
    record_property("summary", figures)
    assert by_spandsp == expected, figures
    assert by_multimon == expected, figures
    late = [p for p in timed if abs(p.error_ms) > PAUSE_TOLERANCE_MS]
    assert not late, figures
