"""The platform, played by the tests: toneflow's answers carried out on a real SIP call.

This driver is the only part of the SIP call test that is ours (baresip does SIP, RTP and
G.711; spandsp and multimon-ng hear the result). It does what a MiniVoice platform does
with an answer_url: POSTs the call's data (``call`` and ``variables``, as the contract's
request model reads them) to the flow's URL, carries out the actions in order, and for a
``redirect`` POSTs the same call data to the URL given. A ``send_digits`` is rendered with
toneflow's own wire plan and renderer (``pause_before_ms`` included, the tone and gap the
flow declares) and played into the call in-band: the caller's audio source is switched to
the rendered WAV mid-call (baresip's ``ausrc`` command). ``speak``, ``play`` and the like
take no time here (nothing in the test listens to them); ``hangup`` or the end of the
actions ends the call.

Each send's file starts with a clock mark: a ``D`` key (tone, then gap, as the flow's
timing has them) that ends exactly where the send's time 0 is, so the far end's recording
shows when the action began: ``pause_before_ms`` is measured from it. No example flow
sends ``D``; the comparison expects the mark before each send's keys.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sip_agents import RATE, Agent

from toneflow.dtmf.audio import render_plan, write_wav
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.wire import WirePlan, WireTiming, wire_plan

MARK = "D"
"""The clock mark's key, sounded just before each send (no example flow sends it)."""
PAD_S = 10
"""Silence after each send's audio: the source must not run dry (baresip hangs up at the
end of a file) before the driver moves on, however late a busy machine wakes it."""
SETTLE_MS = 300
"""How long after a send's last sample the driver waits before its next action."""
MAX_ANSWERS = 20
"""Redirects followed at most, so a flow that loops cannot hang the test."""
HTTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Send:
    """One ``send_digits`` as served, and the plan the driver played for it."""

    url: str
    digits: str
    pause_before_ms: int
    plan: WirePlan
    lead_ms: int
    """How long the clock mark (tone and gap) sounds before the send's time 0."""


class Platform:
    """Carries out a flow's answers on the call ``caller`` has up, as MiniVoice would."""

    def __init__(self, base_url: str, caller: Agent, folder: Path, timing: WireTiming) -> None:
        self.base_url = base_url.rstrip("/")
        self.caller = caller
        self.folder = folder
        self.timing = timing

    def run(self, flow: str, call: dict, variables: dict) -> list[Send]:
        """Fetch ``flow``'s answer_url, follow it to the end; every send played, in order."""
        body = {"call": call, "variables": variables}
        url = f"{self.base_url}/answer/minivoice/{flow}"
        sends: list[Send] = []
        for _ in range(MAX_ANSWERS):
            following = None
            for action in self.fetch(url, body):
                [(name, params)] = action.items()
                if name == "send_digits":
                    sends.append(self.play(url, params))
                elif name == "redirect":
                    following = self._own(params["url"])
                    break
                elif name == "hangup":
                    break
            if following is None:
                self.caller.control.command("hangup")
                return sends
            url = following
        raise AssertionError(f"more than {MAX_ANSWERS} answers: the flow never ended")

    def fetch(self, url: str, body: dict) -> list[dict]:
        """POST the call's data as JSON; the answer's actions (a 200 with JSON, or fail)."""
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as reply:
            assert reply.status == 200, f"{url}: {reply.status}"
            assert reply.headers["Content-Type"] == "application/json", url
            return json.loads(reply.read())["actions"]

    def _own(self, url: str) -> str:
        """A redirect, followed only to the toneflow under test (never anywhere else)."""
        assert url.startswith(self.base_url + "/"), f"redirect away from toneflow: {url}"
        return url

    def play(self, url: str, params: dict) -> Send:
        """Play one ``send_digits`` into the call; return once its last key and a short
        settle have gone out."""
        digits = params["digits"]
        pause_before_ms = params.get("pause_before_ms", 0)
        plan, lead_ms, samples = render_send(digits, pause_before_ms, self.timing)
        path = self.folder / f"send-{len(list(self.folder.glob('send-*.wav'))) + 1}.wav"
        write_wav(path, np.concatenate([samples, np.zeros(PAD_S * RATE)]), rate=RATE)
        done = time.monotonic() + (len(samples) * 1000 // RATE + SETTLE_MS) / 1000
        self.caller.control.command("ausrc", f"aufile,{path}")
        time.sleep(max(0.0, done - time.monotonic()))
        return Send(url, digits, pause_before_ms, plan, lead_ms)


def render_send(
    digits: str, pause_before_ms: int, timing: WireTiming
) -> tuple[WirePlan, int, np.ndarray]:
    """A send's wire plan and its sound at 8 kHz, after the clock mark: the plan, the
    mark's length in ms (tone and gap) and the samples, mark first."""
    plan = wire_plan(
        parse(digits, "minivoice"), "minivoice", timing=timing, pause_before_ms=pause_before_ms
    )
    mark = wire_plan(parse(MARK, "minivoice"), "minivoice", timing=timing)
    lead_ms = mark.total_ms + timing.gap_ms
    samples = np.concatenate(
        [
            render_plan(mark, rate=RATE),
            np.zeros(timing.gap_ms * RATE // 1000),
            render_plan(plan, rate=RATE),
        ]
    )
    return plan, lead_ms, samples
