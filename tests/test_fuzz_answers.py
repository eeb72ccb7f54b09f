"""Fuzz: generated flows, templates and request values never produce a broken answer.

Every answer is either a MiniVoice body that loads with ``MiniVoiceAnswerSchema``, or
OzML that parses as XML with only the elements we emit, or a documented error: a flow
refused at load with positioned problems, or ``AnswerFailed`` (the documented 500).
Anything else — an exception escaping, an invalid body — fails the property.

``TONEFLOW_FUZZ_EXAMPLES`` sets the number of examples (CI: a few hundred; the full run
in the issue notes: 100,000).
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.minivoice import MiniVoiceAnswerSchema
from toneflow.answer import AnswerFailed, answer
from toneflow.flows.compile import compile_flow
from toneflow.flows.registry import FlowSet
from toneflow.request import AnswerRequest

EXAMPLES = int(os.environ.get("TONEFLOW_FUZZ_EXAMPLES", "300"))
OZML_ELEMENTS = {
    "Speak",
    "Play",
    "SendDTMF",
    "Delay",
    "UserInput",
    "GoTo",
    "BlindTransfer",
    "Hangup",
}
VARIABLES = ("a", "b", "c")

# Mostly valid values, so most flows load and most answers are served; invalid ones
# (and any text at all) still come, less often, to exercise the refusals.
any_text = st.one_of(st.text(min_size=1, max_size=12), st.text(max_size=12))
digit_text = st.one_of(
    st.text(alphabet="0123456789*#ABCDwW,", min_size=1, max_size=10),
    st.text(alphabet="0123456789*#", min_size=1, max_size=10),
    st.text(alphabet="0123456789*#ABCDwW,xQ ", max_size=10),
)
number = st.one_of(
    st.integers(0, 60_000),
    st.sampled_from([1, 100, 999, 1000, 1500, 60_000]),
    st.integers(-10, 70_000),
)


def templated(values: st.SearchStrategy) -> st.SearchStrategy:
    """A literal value, or a template over request variables (sometimes broken)."""
    reference = st.sampled_from(VARIABLES).map(lambda name: f"{{{{ variables.{name} }}}}")
    return st.one_of(
        values,
        reference,
        st.tuples(values.map(str), reference).map("".join),
        st.sampled_from(
            [
                "{{ variables.a | int * 2 }}",
                "{{ 1 / 0 }}",
                "{{ nope }}",
                "{{ variables.a.__class__ }}",
                "{% if %}",
                "{{ vars.k }}",
            ]
        ),
    )


def actions(steps: list[str]) -> st.SearchStrategy:
    step = st.sampled_from(steps)
    return st.one_of(
        st.builds(
            lambda d, p: {"send_digits": {"digits": d, "pause_before_ms": p}},
            templated(digit_text),
            templated(number),
        ),
        templated(digit_text).map(lambda d: {"send_digits": d}),
        st.builds(
            lambda t, lang: {"speak": {"text": t, **({"language": lang} if lang else {})}},
            templated(any_text),
            st.one_of(st.none(), any_text),
        ),
        templated(
            st.sampled_from(["https://x.example/a.wav", "http://x.example/b", "ftp://x"])
        ).map(lambda u: {"play": u}),
        st.builds(
            lambda m, t, k, n: {
                "collect_digits": {"max_digits": m, "timeout_ms": t, "finish_on_key": k, "next": n}
            },
            templated(number),
            templated(number),
            st.sampled_from(["#", "*", "1", "x"]),
            step,
        ),
        step.map(lambda s: {"redirect": s}),
        templated(any_text).map(lambda t: {"transfer": {"to": t}}),
        st.just({"hangup": {}}),
    )


@st.composite
def flows(draw) -> dict:
    names = draw(
        st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True)
    )
    steps: dict = {}
    for name in names:
        if draw(st.booleans()) or len(names) == 1:
            steps[name] = draw(st.lists(actions(names), min_size=1, max_size=4))
        else:
            steps[name] = {
                "switch": draw(templated(any_text)),
                "cases": draw(
                    st.dictionaries(
                        st.sampled_from(["1", "2", ""]), st.sampled_from(names), min_size=1
                    )
                ),
                **({"default": names[0]} if draw(st.booleans()) else {}),
            }
    flow = {"steps": steps, "vars": {"k": draw(any_text)}}
    if draw(st.booleans()):
        flow["fallback"] = draw(st.sampled_from(names))
    if draw(st.booleans()):
        flow["party"] = draw(st.sampled_from(["caller", "callee", "all"]))
    return flow


requests = st.builds(
    lambda variables, digits, call_id: AnswerRequest(
        call={"id": call_id} if call_id else {}, digits=digits, variables=variables
    ),
    st.dictionaries(st.sampled_from(VARIABLES), st.one_of(any_text, digit_text)),
    st.one_of(st.none(), digit_text),
    st.one_of(st.none(), st.just("call_1")),
)


def check_minivoice(body: bytes) -> None:
    MiniVoiceAnswerSchema().load(json.loads(body))


def check_ozml(body: bytes) -> None:
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response>')
    root = ET.fromstring(body)
    assert root.tag == "Response"
    for element in root:
        assert element.tag in OZML_ELEMENTS, element.tag
        if element.tag == "SendDTMF":
            assert re.fullmatch(r"[0-9*#]+", element.attrib["Keys"])
            assert element.attrib["Party"] in ("caller", "callee", "all")
        if element.tag == "Delay":
            assert int(element.text) > 0


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(flow=flows(), request=requests, step=st.sampled_from([None, "a", "b", "c", "d"]))
def test_every_answer_is_valid_or_a_documented_error(flow, request, step):
    text = yaml.safe_dump(flow, allow_unicode=True).encode("utf-8")
    compiled, problems = compile_flow("fuzz", "fuzz.yaml", text, max_digits=128)
    if compiled is None:
        assert problems and all(p.line >= 1 and p.column >= 1 for p in problems)
        return
    flow_set = FlowSet(flows={"fuzz": compiled})
    if step is not None and step not in compiled.steps:
        return
    for dialect, check in (("minivoice", check_minivoice), ("ozml", check_ozml)):
        try:
            served = answer(flow_set, "fuzz", step, dialect, request, "https://t.example")
        except AnswerFailed:
            continue
        check(served.body)
        assert served.step in compiled.steps
        assert compiled.steps[served.step].switch is None
