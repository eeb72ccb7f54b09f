"""The answer engine, without Flask: steps, switches, templates, fallback, the static cache."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from textwrap import dedent

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toneflow.answer import (
    DIALECTS,
    MAX_CACHED_BASES,
    RENDERERS,
    Answer,
    AnswerFailed,
    NotFound,
    StepFailed,
    answer,
)
from toneflow.flows.compile import compile_flow
from toneflow.flows.registry import FlowSet
from toneflow.request import AnswerRequest

BASE = "https://tf.test"


def flows_of(text: str, *, name: str = "f", max_digits: int = 128) -> FlowSet:
    flow, problems = compile_flow(
        name, f"{name}.yaml", dedent(text).encode(), max_digits=max_digits
    )
    assert [p for p in problems if p.severity == "error"] == []
    return FlowSet({name: flow}, max_digits=max_digits)


def serve(
    flows: FlowSet,
    step: str | None = None,
    dialect: str = "minivoice",
    *,
    digits: str | None = None,
    variables: dict | None = None,
    call: dict | None = None,
    base_url: str = BASE,
    flow: str = "f",
) -> Answer:
    request = AnswerRequest(call=call or {}, digits=digits, variables=variables or {})
    return answer(flows, flow, step, dialect, request, base_url)


def actions(served: Answer) -> list[dict]:
    assert served.dialect == "minivoice"
    body = json.loads(served.body)
    assert list(body) == ["actions"]
    return body["actions"]


def fails(flows: FlowSet, step: str | None = None, **kwargs) -> AnswerFailed:
    with pytest.raises(AnswerFailed) as caught:
        serve(flows, step, **kwargs)
    return caught.value


# --- steps ------------------------------------------------------------------------------

MENU = flows_of(
    """\
    start: greet
    fallback: sorry
    steps:
      hello:
        - speak: Hello.
      greet:
        - speak: Welcome.
        - redirect: menu
      menu:
        - collect_digits: {max_digits: 1, timeout_ms: 5000, next: route}
      route:
        switch: "{{ input.digits }}"
        cases: {1: sales, "2": support, "3": lang}
        default: menu
      lang:
        switch: "{{ variables.lang }}"
        cases: {fr: french, en: sales}
      sales:
        - transfer: "+15551230010"
      support:
        - speak: Support.
        - hangup: {}
      french:
        - speak: {text: Bonjour., language: fr-FR}
        - hangup: {}
      sorry:
        - speak: Sorry.
        - hangup: {}
    """
)


def test_start_step_when_no_step_is_named():
    served = serve(MENU)
    assert served.step == "greet"
    assert actions(served) == [
        {"speak": {"text": "Welcome."}},
        {"redirect": {"url": "https://tf.test/answer/minivoice/f/menu"}},
    ]
    assert (served.fallback_from, served.fallback_reason) == (None, None)
    assert served.content_type == "application/json"


def test_named_step():
    served = serve(MENU, "hello")
    assert served.step == "hello"
    assert served.flow is MENU.get("f")
    assert actions(served) == [{"speak": {"text": "Hello."}}]


def test_ozml_dialect_and_content_type():
    served = serve(MENU, "greet", "ozml")
    assert served.content_type == "application/xml; charset=utf-8"
    assert served.body == (
        b'<?xml version="1.0" encoding="UTF-8"?><Response><Speak>Welcome.</Speak>'
        b"<GoTo>https://tf.test/answer/ozml/f/menu</GoTo></Response>"
    )


def test_trailing_slash_of_the_base_url_is_not_doubled():
    served = serve(MENU, "greet", base_url="https://tf.test/")
    assert actions(served)[1] == {"redirect": {"url": "https://tf.test/answer/minivoice/f/menu"}}


def test_unknown_flow_or_step_is_not_found():
    with pytest.raises(NotFound, match="no flow named 'nope'"):
        serve(MENU, flow="nope")
    with pytest.raises(NotFound, match="flow 'f' has no step named 'nope'"):
        serve(MENU, "nope")


@pytest.mark.parametrize(
    ("step", "terminal"),
    [
        ("greet", False),  # redirect
        ("menu", False),  # collect_digits
        ("hello", True),
        ("support", True),
        ("sales", True),  # a transfer hands the call on, but to no step of ours
    ],
)
def test_terminal(step, terminal):
    assert serve(MENU, step).terminal is terminal
    assert serve(MENU, step, "ozml").terminal is terminal


# --- switches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "served_step"),
    [
        ("1", "sales"),  # a case written as the number 1
        ("2", "support"),  # a case written as the text "2"
        ("9", "menu"),  # no case matches: the default
        ("", "menu"),  # an empty value goes to the default
        (None, "menu"),  # no input.digits at all: undefined goes to the default
    ],
)
def test_switch(digits, served_step):
    served = serve(MENU, "route", digits=digits)
    assert served.step == served_step
    assert served.fallback_from is None
    assert served.body == serve(MENU, served_step).body


def test_switch_terminal_is_that_of_the_step_served():
    assert serve(MENU, "route", digits="2").terminal is True
    assert serve(MENU, "route", digits="9").terminal is False


def test_switch_leading_to_a_switch():
    served = serve(MENU, "route", digits="3", variables={"lang": "fr"})
    assert served.step == "french"
    assert actions(served)[0] == {"speak": {"text": "Bonjour.", "language": "fr-FR"}}
    assert serve(MENU, "route", digits="3", variables={"lang": "en"}).step == "sales"


def test_switch_with_no_match_and_no_default_serves_the_fallback():
    served = serve(MENU, "route", digits="3", variables={"lang": "de"})
    assert served.step == "sorry"
    assert served.fallback_from == "lang"
    assert served.fallback_reason == (
        "switch value 'de' matches no case and the step has no default"
    )
    assert actions(served) == [{"speak": {"text": "Sorry."}}, {"hangup": {}}]


def test_switch_with_undefined_value_and_no_default_serves_the_fallback():
    served = serve(MENU, "lang")
    assert (served.step, served.fallback_from) == ("sorry", "lang")


SWITCH_NO_FALLBACK = flows_of(
    """\
    steps:
      s:
        switch: "{{ input.digits }}"
        cases: {"1": a}
      a:
        - hangup: {}
    """
)


def test_switch_with_no_match_and_no_fallback_fails():
    error = fails(SWITCH_NO_FALLBACK, digits="2")
    assert error.failure.step == "s"
    assert "matches no case" in error.failure.reason
    assert "the flow has no fallback step" in str(error)
    assert serve(SWITCH_NO_FALLBACK, digits="1").step == "a"


def test_a_switch_loop_is_a_render_failure_not_a_hang():
    flows = flows_of(
        """\
        fallback: out
        steps:
          s:
            switch: "x"
            cases: {x: t}
          t:
            switch: "{{ input.digits }}"
            cases: {"1": out}
            default: s
          out:
            - hangup: {}
        """
    )
    served = serve(flows)
    assert served.step == "out"
    assert "switches in a row" in served.fallback_reason


def test_switch_expression_errors_are_render_failures():
    flows = flows_of(
        """\
        fallback: out
        steps:
          s:
            switch: "{{ 1 / (input.digits | int) }}"
            cases: {"1.0": out}
            default: out
          out:
            - hangup: {}
        """
    )
    served = serve(flows, digits="0")
    assert served.fallback_from == "s"
    assert served.fallback_reason == "switch: division by zero"


# --- fallback ---------------------------------------------------------------------------


def test_fallback_that_fails_too_is_an_answer_failure():
    flows = flows_of(
        """\
        fallback: sorry
        steps:
          s:
            - speak: "{{ variables.name }}"
          sorry:
            - speak: "Sorry {{ call.from }}"
        """
    )
    error = fails(flows)
    assert error.failure.step == "s"
    assert "the fallback failed too" in str(error)
    assert "step 'sorry'" in str(error)
    # Given what both need, both render.
    served = serve(flows, variables={"name": "Ann"}, call={"from": "+1555"})
    assert actions(served) == [{"speak": {"text": "Ann"}}]


def test_failure_in_the_fallback_step_itself_is_an_answer_failure():
    flows = flows_of(
        """\
        fallback: sorry
        steps:
          sorry:
            - speak: "{{ variables.name }}"
        """
    )
    error = fails(flows, "sorry")
    assert error.failure.step == "sorry"
    assert "has no fallback" in str(error)


def test_switch_into_a_failing_fallback_is_an_answer_failure():
    flows = flows_of(
        """\
        fallback: sorry
        steps:
          s:
            switch: "{{ input.digits }}"
            cases: {"1": sorry}
          sorry:
            - speak: "{{ variables.name }}"
        """
    )
    # The switch leads to the fallback, which fails: there is nothing else to serve.
    error = fails(flows, digits="1")
    assert (error.failure.step, "has no fallback" in str(error)) == ("sorry", True)
    # The switch itself fails, and then so does the fallback.
    error = fails(flows, digits="2")
    assert (error.failure.step, "the fallback failed too" in str(error)) == ("s", True)


# --- templates --------------------------------------------------------------------------

TEMPLATED = flows_of(
    """\
    fallback: sorry
    vars: {greeting: Hello}
    steps:
      send:
        - send_digits:
            digits: "{{ variables.code }}#"
            pause_before_ms: "{{ variables.wait }}"
      text:
        - speak: "{{ variables.text }}"
      who:
        - speak: "{{ vars.greeting }} {{ call.from }}, you pressed {{ input.digits }}"
      expr:
        - speak: "{{ variables.a / variables.b }}"
      sandbox:
        - speak: "{{ variables.x.__class__.__mro__ }}"
      collect:
        - collect_digits:
            max_digits: "{{ variables.n }}"
            timeout_ms: 1500
            next: send
      sorry:
        - hangup: {}
    """,
    max_digits=10,
)


def test_templated_values_render_and_validate():
    served = serve(TEMPLATED, "send", variables={"code": "1234", "wait": "2000"})
    assert actions(served) == [{"send_digits": {"digits": "1234#", "pause_before_ms": 2000}}]
    assert served.fallback_from is None


def test_all_four_context_names():
    served = serve(TEMPLATED, "who", call={"from": "+1555"}, digits="7")
    assert actions(served) == [{"speak": {"text": "Hello +1555, you pressed 7"}}]


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"code": "12x", "wait": "0"}, "invalid DTMF character 'x' at position 3"),
        ({"code": "", "wait": "0"}, None),  # "#" alone is valid digits
        ({"code": "123456789012", "wait": "0"}, "the limit is 10"),  # flows.max_digits
        ({"code": "1", "wait": "abc"}, "Not a valid integer."),
        ({"code": "1", "wait": "12.5"}, "Not a valid integer."),
        ({"code": "1", "wait": "60001"}, "less than or equal to 60000"),
        ({"code": "1", "wait": "-5"}, "greater than or equal to 0"),
        ({"code": "1"}, "`variables.wait` is not set for this call"),
    ],
)
def test_rendered_values_are_validated_like_literals(variables, reason):
    served = serve(TEMPLATED, "send", variables=variables)
    if reason is None:
        assert served.fallback_from is None
        return
    assert served.step == "sorry"
    assert served.fallback_from == "send"
    assert served.fallback_reason.startswith("action 1 (send_digits.")
    assert reason in served.fallback_reason


def test_templated_collect_digits():
    served = serve(TEMPLATED, "collect", variables={"n": "4"})
    assert actions(served) == [
        {
            "collect_digits": {
                "max_digits": 4,
                "timeout_ms": 1500,
                "action_url": "https://tf.test/answer/minivoice/f/send",
            }
        }
    ]
    assert serve(TEMPLATED, "collect", variables={"n": "65"}).fallback_from == "collect"


def test_rendered_digits_with_a_b_c_d_are_fine_in_minivoice_but_not_in_ozml():
    variables = {"code": "12A", "wait": "0"}
    assert actions(serve(TEMPLATED, "send", variables=variables))[0]["send_digits"] == {
        "digits": "12A#",
        "pause_before_ms": 0,
    }
    served = serve(TEMPLATED, "send", "ozml", variables=variables)
    assert served.fallback_from == "send"
    assert "'A'" in served.fallback_reason
    assert "position 3" in served.fallback_reason


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"a": 1, "b": 0}, "division by zero"),
        ({"a": "x", "b": 2}, "unsupported operand type"),
        ({"a": [1], "b": {}}, "unsupported operand type"),
    ],
)
def test_expression_errors_are_render_failures_not_crashes(variables, reason):
    served = serve(TEMPLATED, "expr", variables=variables)
    assert served.fallback_from == "expr"
    assert reason in served.fallback_reason


def test_sandbox_refuses_python_internals():
    served = serve(TEMPLATED, "sandbox", variables={"x": "1"})
    assert served.fallback_from == "sandbox"
    assert "unsafe" in served.fallback_reason
    assert actions(served) == [{"hangup": {}}]


def test_an_empty_rendered_text_is_refused():
    served = serve(TEMPLATED, "text", variables={"text": ""})
    assert served.fallback_from == "text"


@pytest.mark.parametrize(
    "text", ["{{ 7 * 7 }}", "{% if true %}x{% endif %}", "{{ vars.greeting }}", "{#"]
)
def test_template_syntax_inside_a_variable_is_literal_text(text):
    served = serve(TEMPLATED, "text", variables={"text": text})
    assert actions(served) == [{"speak": {"text": text}}]
    ozml = ET.fromstring(serve(TEMPLATED, "text", "ozml", variables={"text": text}).body)
    assert ozml[0].text == text


def test_missing_call_field_is_a_failure_not_none():
    served = serve(TEMPLATED, "who", digits="7")  # no call.from
    assert served.fallback_from == "who"
    assert "None" not in served.body.decode()


# --- text XML cannot carry ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "\x1b[31m", "x\ufffe", "\uffff"])
def test_control_characters_in_ozml_are_a_render_failure(text):
    served = serve(TEMPLATED, "text", "ozml", variables={"text": text})
    assert served.fallback_from == "text"
    assert "which XML cannot carry" in served.fallback_reason
    assert ET.fromstring(served.body)[0].tag == "Hangup"
    # JSON escapes them: MiniVoice serves the text as it is.
    assert actions(serve(TEMPLATED, "text", variables={"text": text})) == [
        {"speak": {"text": text}}
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_lone_surrogate_is_a_render_failure_in_both_dialects(dialect):
    # json.loads('"\\ud800"') gives such a string: a JSON answer request can carry one.
    served = serve(TEMPLATED, "text", dialect, variables={"text": "ab\ud800"})
    assert served.fallback_from == "text"
    assert "U+D800" in served.fallback_reason
    served.body.decode("utf-8")


# --- the static-step cache --------------------------------------------------------------


def cached_flows() -> FlowSet:
    return flows_of(
        """\
        fallback: b
        steps:
          a:
            - speak: Static.
            - redirect: b
          b:
            - hangup: {}
          c:
            - speak: "{{ variables.x }}"
          keys:
            - send_digits: "12A"
        """
    )


def test_static_step_is_rendered_once():
    flows = cached_flows()
    first, second = serve(flows, "a"), serve(flows, "a")
    assert first.body == second.body
    assert second.body is first.body  # the very bytes kept, not a new rendering
    assert len(flows.get("f").cache) == 1
    assert serve(flows, "a", "ozml").body != first.body
    assert len(flows.get("f").cache) == 2


def test_templated_step_is_not_cached():
    flows = cached_flows()
    assert actions(serve(flows, "c", variables={"x": "one"})) == [{"speak": {"text": "one"}}]
    assert actions(serve(flows, "c", variables={"x": "two"})) == [{"speak": {"text": "two"}}]
    assert flows.get("f").cache == {}


def test_cache_is_bounded_when_the_base_url_varies():
    flows = cached_flows()
    flow = flows.get("f")
    bound = MAX_CACHED_BASES * len(flow.steps) * len(DIALECTS)
    for i in range(bound * 3):
        base = f"https://host{i}.example"
        served = serve(flows, "a", DIALECTS[i % 2], base_url=base)
        # Past the bound nothing is cached, and nothing stale is served either.
        assert f"{base}/answer/{DIALECTS[i % 2]}/f/b".encode() in served.body
        assert len(flow.cache) <= bound
    assert len(flow.cache) == bound


def test_cached_failure_serves_the_fallback_every_time():
    flows = cached_flows()
    for _ in range(3):
        served = serve(flows, "keys", "ozml")
        assert (served.step, served.fallback_from) == ("b", "keys")
        assert "'A'" in served.fallback_reason
    assert actions(serve(flows, "keys")) == [{"send_digits": {"digits": "12A"}}]


def test_cached_failure_does_not_grow_with_each_request():
    """Re-raising one cached exception object would chain every request's frames onto it."""
    flows = flows_of("steps:\n  keys:\n    - send_digits: '12A'\n")

    def traceback_length() -> int:
        error = fails(flows, "keys", dialect="ozml")
        assert isinstance(error.failure, StepFailed)
        length, tb = 0, error.failure.__traceback__
        while tb is not None:
            length, tb = length + 1, tb.tb_next
        return length

    first = traceback_length()
    for _ in range(20):
        traceback_length()
    assert traceback_length() == first


# --- properties -------------------------------------------------------------------------

TEXT_FLOW = flows_of(
    """\
    fallback: sorry
    steps:
      s:
        - speak: "{{ variables.t }}"
        - transfer: "{{ variables.t }}"
        - speak: {text: "Said: {{ variables.t }}", language: "{{ variables.t }}"}
      sorry:
        - hangup: {}
    """
)


def xml_char(char: str) -> bool:
    """XML 1.0's Char production (section 2.2)."""
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def xml_line_ends(text: str) -> str:
    """XML 1.0 section 2.11: a parser reads CR LF and a lone CR as LF in element text."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


#: Any text, also with lone surrogates (which st.text() leaves out) and control characters.
ANY_TEXT = st.text() | st.lists(st.characters() | st.characters(categories=["Cs", "Cc"])).map(
    "".join
)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(ANY_TEXT)
def test_any_text_round_trips_through_ozml_or_falls_back(text):
    served = serve(TEXT_FLOW, "s", "ozml", variables={"t": text})
    assert served.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response>')
    root = ET.fromstring(served.body)
    assert root.tag == "Response"
    if text == "" or not all(xml_char(c) for c in text):
        assert served.fallback_from == "s"
        assert [child.tag for child in root] == ["Hangup"]
        return
    assert served.fallback_from is None
    assert [(child.tag, child.text, child.attrib) for child in root] == [
        ("Speak", xml_line_ends(text), {}),
        ("BlindTransfer", xml_line_ends(text), {}),
        ("Speak", xml_line_ends("Said: " + text), {"Language": text}),  # attributes: exact
    ]


@PROPERTY
@given(ANY_TEXT)
def test_any_text_round_trips_through_minivoice_or_falls_back(text):
    served = serve(TEXT_FLOW, "s", "minivoice", variables={"t": text})
    body = json.loads(served.body.decode("utf-8"))
    if text == "" or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert served.fallback_from == "s"
        assert body == {"actions": [{"hangup": {}}]}
        return
    assert served.fallback_from is None
    assert body == {
        "actions": [
            {"speak": {"text": text}},
            {"transfer": {"to": text}},
            {"speak": {"text": "Said: " + text, "language": text}},
        ]
    }


DIGITS_FLOW = flows_of(
    """\
    fallback: sorry
    steps:
      s:
        - send_digits: "{{ variables.d }}"
      sorry:
        - hangup: {}
    """,
    max_digits=24,
)
MINIVOICE_ALPHABET = set("0123456789*#ABCDwW,")
DIGIT_TEXT = st.text() | st.text(st.sampled_from([*sorted(MINIVOICE_ALPHABET), "x", " "]))


@PROPERTY
@given(DIGIT_TEXT)
def test_any_digits_are_served_valid_or_fall_back(digits):
    valid = 0 < len(digits) <= 24 and set(digits) <= MINIVOICE_ALPHABET
    served = serve(DIGITS_FLOW, "s", "minivoice", variables={"d": digits})
    body = json.loads(served.body)
    if valid:
        assert served.fallback_from is None
        assert body == {"actions": [{"send_digits": {"digits": digits}}]}
    else:
        assert served.fallback_from == "s"
        assert body == {"actions": [{"hangup": {}}]}

    served = serve(DIGITS_FLOW, "s", "ozml", variables={"d": digits})
    root = ET.fromstring(served.body)
    if valid and not set(digits) & set("ABCD"):
        assert served.fallback_from is None
        keys = "".join(e.get("Keys") for e in root if e.tag == "SendDTMF")
        assert keys == "".join(c for c in digits if c in "0123456789*#")
        assert {e.tag for e in root} <= {"SendDTMF", "Delay"}
    else:
        assert served.fallback_from == "s"
        assert [e.tag for e in root] == ["Hangup"]


def test_every_answer_dialect_has_exactly_one_renderer():
    """The request model names the dialects; the answer has a renderer for each, no more."""
    assert tuple(RENDERERS) == DIALECTS
