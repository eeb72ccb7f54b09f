"""Run scripted calls through the real application, offline.

The app is the one gunicorn serves (``create_app``), with a throwaway SQLite call log,
driven by Flask's test client: no server, no network. Each case is a call: the first
request fetches the start step (or ``start``), and every next one follows what the
previous answer said — its redirect, or its digit collection with the scripted digits —
exactly as a platform would. The step served is read back from the call log.
"""

from __future__ import annotations

import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from schemas.flowtest import Case, FarEnd, Request
from toneflow.dtmf import farend
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.tokens import Key, Pause, Token
from toneflow.dtmf.wire import WirePlan, WireTiming, wire_plan
from toneflow.store import migrate
from toneflow.web.state import CALL_LOG, FLOWS

#: The base URL answers are made with; what redirect and action URLs start with.
BASE_URL = "http://toneflow.test"
#: A case's call id when it gives none: the served steps are read from the call log.
CALL_ID = "flowtest-{index}"
#: The app's own log level under ``toneflow test``: its results are the report, so an
#: expected 500 (``answer_failed``, an error) is not printed among them.
LOG_LEVEL = "critical"


@dataclass
class Served:
    """What one request got back."""

    path: str
    digits: str | None
    status: int
    step: str | None
    actions: list[Any]
    next_path: str | None
    body: str


@dataclass
class Mismatch:
    """Why a case failed, at which request (None: at the far end), with what was expected
    and what came; ``detail`` is the far end's account of every key, ``party`` the far
    end's when the case describes one per party."""

    request: int | None
    served: Served | None
    message: str
    expected: list[Any] | None = None
    actual: list[Any] | None = None
    detail: list[str] = field(default_factory=list)
    party: str | None = None


@dataclass(frozen=True)
class Sent:
    """One send's wire plan, and the party it went to (OzML's ``Party``; None for
    MiniVoice, whose sends carry no party: they reach the one far end)."""

    party: str | None
    plan: WirePlan


@dataclass
class Outcome:
    file: str
    case: Case
    served: list[Served] = field(default_factory=list)
    mismatch: Mismatch | None = None

    @property
    def passed(self) -> bool:
        return self.mismatch is None


@contextmanager
def offline_app(flows_dir: Path, max_digits: int) -> Iterator[Flask]:
    """The real app over ``flows_dir``, with a throwaway call log and quiet logs.

    The app configures logging to the stdout of the moment it is built; it is built
    with stdout pointing at stderr, so whatever it still logs (critical lines, warnings
    of other libraries) never lands among the test results.
    """
    from app import create_app  # the web shell, imported only by the command that needs it

    with tempfile.TemporaryDirectory(prefix="toneflow-test-") as folder:
        database = f"sqlite:///{Path(folder) / 'calls.db'}"
        migrate.upgrade(database)
        settings = {
            "DATABASE_URL": database,
            "FLOWS_DIR": str(flows_dir),
            "MAX_DIGITS": max_digits,
            "PUBLIC_URL": BASE_URL,
            "LOG_LEVEL": LOG_LEVEL,
            "WEBHOOK_SECRET": None,
            "SIGN_ANSWERS": False,
            "RELOAD": False,
        }
        with redirect_stdout(sys.stderr):
            app = create_app(settings)
        try:
            yield app
        finally:
            app.extensions[CALL_LOG].engine.dispose()


def run_case(app: Flask, client: FlaskClient, flow: str, case: Case, index: int) -> Outcome:
    """Play one scripted call; stop at the first request that differs from the script."""
    outcome = Outcome(file="", case=case)
    call = {"id": CALL_ID.format(index=index), **case.call}
    path: str | None = f"/answer/{case.dialect}/{flow}" + (f"/{case.start}" if case.start else "")
    for number, expected in enumerate(case.requests, 1):
        if path is None:
            last = outcome.served[-1]
            outcome.mismatch = Mismatch(
                number,
                None,
                f"the call ended at step '{last.step}' (nothing in it leads on), "
                f"but the test has {len(case.requests) - number + 1} more request(s)",
            )
            return outcome
        served = _request(app, client, case, call, path, expected.digits)
        outcome.served.append(served)
        outcome.mismatch = _compare(number, expected, served)
        if outcome.mismatch is not None:
            return outcome
        path = served.next_path
    if case.far_end is not None or case.far_ends:
        flow_model = app.extensions[FLOWS].get(flow)
        timing = flow_model.dtmf if flow_model is not None else WireTiming()
        outcome.mismatch = check_far_ends(case, sends(case.dialect, outcome.served, timing))
    return outcome


def sends(dialect: str, served: list[Served], timing: WireTiming) -> list[Sent]:
    """The wire plan of every ``send_digits`` the call served, in order, with its party.

    MiniVoice: each ``send_digits`` action. OzML: each run of ``Delay`` and ``SendDTMF``
    elements (what one ``send_digits`` renders to), its Delays whole seconds of silence;
    a ``SendDTMF`` to another party than the run's keys starts a new send (the Delays
    since the run's last key go with it, as its pause before).
    """
    found: list[Sent] = []
    for answer in served:
        run: list[Token] = []
        party: str | None = None
        for action in [*answer.actions, None]:
            name, value = next(iter(action.items())) if isinstance(action, dict) else (None, None)
            if name == "send_digits":
                tokens = parse(value["digits"], "minivoice")
                pause = value.get("pause_before_ms", 0)
                found.append(Sent(None, wire_plan(tokens, timing=timing, pause_before_ms=pause)))
            elif name == "Delay":
                run.append(Pause(int(value) * 1000, None))
            elif name == "SendDTMF":
                keyed = [i for i, token in enumerate(run) if isinstance(token, Key)]
                if keyed and value.get("Party") != party:
                    split = keyed[-1] + 1
                    found.append(Sent(party, wire_plan(run[:split], "ozml", timing=timing)))
                    run = run[split:]
                party = value.get("Party")
                run += [Key(k, i) for i, k in enumerate(value["Keys"], 1)]
            elif run:
                found.append(Sent(party, wire_plan(run, "ozml", timing=timing)))
                run, party = [], None
    return found


def check_far_ends(case: Case, sent: list[Sent]) -> Mismatch | None:
    """Play the call's sends, on one clock, against the far end the case describes, or
    each party's far end against the sends to it (and to ``all``); the first mismatch."""
    keys = farend.arrivals(s.plan for s in sent)
    if case.far_end is not None:
        return check_far_end(case.far_end, keys)
    for party, far_end in (case.far_ends or {}).items():
        heard = [k for k in keys if sent[k.send - 1].party in (party, "all")]
        mismatch = check_far_end(far_end, heard, party)
        if mismatch is not None:
            return mismatch
    return None


def check_far_end(
    far_end: FarEnd, keys: Sequence[farend.Arrival], party: str | None = None
) -> Mismatch | None:
    """Play ``keys`` against the far end; a mismatch names the first key that missed."""
    hearing = farend.simulate(far_end.prompts, keys)
    problems = []
    if far_end.receives is not None and hearing.received != far_end.receives:
        problems.append(f"received {hearing.received!r}, expected {far_end.receives!r}")
    for prompt, keys in (far_end.inputs or {}).items():
        if hearing.inputs.get(prompt) != keys:
            problems.append(f"{prompt!r} took {hearing.inputs.get(prompt)!r}, expected {keys!r}")
    if not problems:
        return None
    miss = farend.first_miss(hearing)
    if miss is not None:
        problems.append(farend.explain(miss, hearing))
    return Mismatch(None, None, "\n".join(problems), detail=farend.account(hearing), party=party)


def _request(
    app: Flask, client: FlaskClient, case: Case, call: dict, path: str, digits: str | None
) -> Served:
    """One request as the platform of ``case.dialect`` sends it: JSON, or Ozeki's form."""
    answered = len(_answers(app, call["id"]))
    if case.dialect == "ozml":
        form = {
            "CallId": call["id"],
            **{k: str(v) for k, v in case.variables.items()},
            **({"Caller": call["from"]} if "from" in call else {}),
            **({"Callee": call["to"]} if "to" in call else {}),
            **({"DtmfDigits": digits} if digits is not None else {}),
        }
        response = client.post(path, data=form, base_url=BASE_URL)
    else:
        body = {"call": call, "variables": case.variables, "input": {"digits": digits}}
        response = client.post(path, json=body, base_url=BASE_URL)
    text = response.get_data(as_text=True)
    answers = _answers(app, call["id"])
    # The step this request served, or (a 500) the step that failed: both are recorded.
    step = answers[-1]["step"] if len(answers) > answered else None
    if response.status_code != 200:
        actions: list[Any] = [response.get_json(silent=True) or text]
    elif case.dialect == "ozml":
        actions = ozml_actions(text)
    else:
        actions = response.get_json()["actions"]
    return Served(path, digits, response.status_code, step, actions, _next_path(actions), text)


def _answers(app: Flask, call_id: str) -> list[dict[str, Any]]:
    record = app.extensions[CALL_LOG].get(call_id)
    return record["answers"] if record else []


def ozml_actions(body: str) -> list[dict[str, Any]]:
    """OzML elements as test files write them: ``{tag: text}``, ``{tag: {attributes}}``,
    or ``{tag: {attributes…, text: …}}`` when an element has both."""
    actions = []
    for element in ET.fromstring(body):
        text = element.text or ""
        if not element.attrib:
            actions.append({element.tag: text})
        else:
            actions.append({element.tag: {**element.attrib, **({"text": text} if text else {})}})
    return actions


def _next_path(actions: list[Any]) -> str | None:
    """Where the platform goes next: a redirect, or where collected digits are sent."""
    for action in actions:
        if not isinstance(action, dict) or len(action) != 1:
            continue
        ((name, value),) = action.items()
        url = None
        if name == "redirect":
            url = value["url"]
        elif name == "collect_digits":
            url = value["action_url"]
        elif name == "GoTo":
            url = value
        elif name == "UserInput":
            url = value["ForwardToUrl"]
        if url is not None:
            return urlsplit(url).path
    return None


def _compare(number: int, expected: Request, served: Served) -> Mismatch | None:
    if served.status != expected.status:
        return Mismatch(
            number,
            served,
            f"expected status {expected.status}, got {served.status}",
            None,
            served.actions,
        )
    if expected.step is not None and served.step != expected.step:
        return Mismatch(
            number,
            served,
            f"expected step '{expected.step}', served '{served.step}'",
            expected.actions or expected.contains,
            served.actions,
        )
    if expected.actions is not None and served.actions != expected.actions:
        return Mismatch(number, served, "the actions differ", expected.actions, served.actions)
    if expected.contains is not None and not contains(served.actions, expected.contains):
        return Mismatch(
            number,
            served,
            "the actions do not contain the expected ones, in this order",
            expected.contains,
            served.actions,
        )
    return None


def contains(actual: list[Any], expected: list[Any]) -> bool:
    """``expected`` matches a subsequence of ``actual``, each item a subset of its match."""
    remaining = iter(actual)
    return all(any(subset(item, candidate) for candidate in remaining) for item in expected)


def subset(expected: Any, actual: Any) -> bool:
    """Mappings match when every expected key matches; other values must be equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(key in actual and subset(value, actual[key]) for key, value in expected.items())
    return expected == actual
