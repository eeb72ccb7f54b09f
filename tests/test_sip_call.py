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

import json
import urllib.request

import pytest
from dtmf_decoders import MULTIMON, SPANDSP, multimon_keys, spandsp_keys
from sip_agents import BARESIP, caller_and_callee, stop
from sip_driver import Platform
from sip_measure import PAUSE_TOLERANCE_MS, expected_keys, pauses, report
from support import PROJECT_FLOWS, require, running_server

from toneflow.dtmf.audio import read_wav
from toneflow.dtmf.parsing import DEFAULT_MAX_DIGITS
from toneflow.flows.compile import compile_file

pytestmark = pytest.mark.slow  # gunicorn, two SIP agents and a call of several seconds

CASES = [  # the flow, the request's variables, the sends served, the keys, the steps
    pytest.param(
        "appointment", {"confirmation_code": "1234"}, [("1234#", 2000)], "1234#",
        ["connect", "done"], id="appointment",
    ),
    pytest.param(
        "conference_pin", {}, [("1234*WWWWW6654#", 4000)], "1234*6654#", ["join"],
        id="conference_pin",
    ),
]  # fmt: skip


@pytest.fixture
def toneflow(tmp_path):
    """toneflow under gunicorn, serving the shipped flows on a free port: its URL and an
    API token for reading the call log."""
    folder = tmp_path / "toneflow"
    folder.mkdir()
    with running_server(folder) as (_, port, token):
        yield f"http://127.0.0.1:{port}", token


def logged_steps(url: str, token: str, call_id: str) -> list[str]:
    """The steps toneflow's call log says it served on ``call_id``, in order."""
    request = urllib.request.Request(
        f"{url}/api/calls/{call_id}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return [answer["step"] for answer in json.loads(reply.read())["answers"]]


@pytest.fixture
def agents(tmp_path):
    """The platform's SIP agent and the far end's, stopped at teardown whatever happens."""
    require(BARESIP is not None, "baresip (Debian baresip-core)")
    require(SPANDSP is not None, "spandsp (Debian libspandsp2)")
    require(MULTIMON is not None, "multimon-ng (Debian multimon-ng)")
    with caller_and_callee(tmp_path / "sip") as pair:
        yield pair


@pytest.mark.parametrize(("flow", "variables", "served", "keys", "steps"), CASES)
def test_the_far_end_hears_every_key_and_pause_on_a_real_sip_call(
    flow, variables, served, keys, steps, agents, toneflow, tmp_path, record_property
):
    caller, callee = agents
    url, token = toneflow
    compiled, problems = compile_file(PROJECT_FLOWS / f"{flow}.yaml", max_digits=DEFAULT_MAX_DIGITS)
    assert compiled is not None, problems
    caller.control.command("dial", callee.uri)
    caller.control.wait_event("CALL_ESTABLISHED")
    callee.control.wait_event("CALL_ESTABLISHED")

    call = {"id": f"sip_{flow}", "from": "+15551230001", "to": "+15551230002"}
    sends = Platform(url, caller, tmp_path, compiled.dtmf).run(flow, call, variables)
    callee.control.wait_event("CALL_CLOSED")
    stop(callee)  # baresip completes the recording's WAV header as it exits

    recording = read_wav(callee.received())
    heard = spandsp_keys(recording.samples, recording.rate)
    by_spandsp = "".join(key.key for key in heard)
    by_multimon = multimon_keys(recording.samples, recording.rate)
    expected = expected_keys(sends)
    timed = pauses(sends, heard) if by_spandsp == expected else []
    figures = report(flow, sends, by_spandsp, by_multimon, timed)
    record_property("summary", figures)  # shown at the end of the run, pass or fail

    assert logged_steps(url, token, call["id"]) == steps  # every redirect was followed
    assert [(send.digits, send.pause_before_ms) for send in sends] == served
    assert "".join(tone.key for send in sends for tone in send.plan.tones) == keys
    assert by_spandsp == expected, figures
    assert by_multimon == expected, figures
    late = [p for p in timed if abs(p.error_ms) > PAUSE_TOLERANCE_MS]
    assert not late, figures
