"""Actions as MiniVoice JSON and OzML XML, per the contract's action table and DTMF rules."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from textwrap import dedent

import pytest
from dtmf_cases import keys_of

from toneflow.answer import answer
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.ozml_timing import OzmlDelay, OzmlKeys, ozml_segments
from toneflow.dtmf.parsing import parse
from toneflow.flows import model
from toneflow.flows.compile import compile_flow
from toneflow.flows.registry import FlowSet
from toneflow.render import RenderError, minivoice, ozml
from toneflow.request import AnswerRequest

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'


def step_url_for(dialect: str):
    return lambda step: f"https://tf.test/answer/{dialect}/f/{step}"


def mv(*actions: model.Action) -> list[dict]:
    body = minivoice.render(actions, step_url=step_url_for("minivoice"), party="callee")
    parsed = json.loads(body.decode("utf-8"))
    assert list(parsed) == ["actions"]
    return parsed["actions"]


def oz_bytes(*actions: model.Action, party: str = "callee") -> bytes:
    return ozml.render(actions, step_url=step_url_for("ozml"), party=party)


def oz(*actions: model.Action, party: str = "callee") -> list[tuple[str, dict, str | None]]:
    body = oz_bytes(*actions, party=party)
    assert body.startswith(DECLARATION + b"<Response>")
    root = ET.fromstring(body)
    assert root.tag == "Response"
    assert root.text is None
    return [(child.tag, child.attrib, child.text) for child in root]


def send(digits: str, pause_before_ms: int | None = None, party: str | None = None):
    return model.SendDigits(digits, pause_before_ms, party)


def keys(text: str, party: str = "callee") -> tuple[str, dict, None]:
    return ("SendDTMF", {"Party": party, "Keys": text}, None)


def delay(seconds: int) -> tuple[str, dict, str]:
    return ("Delay", {}, str(seconds))


# --- every action, MiniVoice ------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "json_action"),
    [
        (send("1234#"), {"send_digits": {"digits": "1234#"}}),
        (send("1234#", 2000), {"send_digits": {"digits": "1234#", "pause_before_ms": 2000}}),
        (send("1234#", 0), {"send_digits": {"digits": "1234#", "pause_before_ms": 0}}),
        (send("1", party="caller"), {"send_digits": {"digits": "1"}}),  # party is OzML's
        (model.Speak("Hello"), {"speak": {"text": "Hello"}}),
        (model.Speak("Hallo", "de-DE"), {"speak": {"text": "Hallo", "language": "de-DE"}}),
        (model.Play("https://e.com/a.wav"), {"play": {"url": "https://e.com/a.wav"}}),
        (
            model.CollectDigits(max_digits=4, timeout_ms=1500, next="route"),
            {
                "collect_digits": {
                    "max_digits": 4,
                    "timeout_ms": 1500,
                    "action_url": "https://tf.test/answer/minivoice/f/route",
                }
            },
        ),
        (
            model.CollectDigits(max_digits=1, timeout_ms=5000, next="route", finish_on_key="#"),
            {
                "collect_digits": {
                    "max_digits": 1,
                    "timeout_ms": 5000,
                    "finish_on_key": "#",
                    "action_url": "https://tf.test/answer/minivoice/f/route",
                }
            },
        ),
        (
            model.Redirect("menu"),
            {"redirect": {"url": "https://tf.test/answer/minivoice/f/menu"}},
        ),
        (model.Transfer("+15551230000"), {"transfer": {"to": "+15551230000"}}),
        (model.Hangup(), {"hangup": {}}),
    ],
)
def test_each_action_as_minivoice(action, json_action):
    assert mv(action) == [json_action]
    # Key order as in the contract's table, for people reading logged bodies.
    ((name, values),) = mv(action)[0].items()
    assert list(values) == list(json_action[name])


def test_minivoice_seed_body_is_exact():
    body = minivoice.render((send("1234#"),), step_url=step_url_for("minivoice"), party="callee")
    assert body == b'{"actions":[{"send_digits":{"digits":"1234#"}}]}'


def test_minivoice_keeps_action_order_and_writes_utf8():
    body = minivoice.render(
        (model.Speak("Grüß dich — 你好"), model.Hangup()),
        step_url=step_url_for("minivoice"),
        party="callee",
    )
    assert "Grüß dich — 你好".encode() in body
    assert json.loads(body) == {
        "actions": [{"speak": {"text": "Grüß dich — 你好"}}, {"hangup": {}}]
    }


def test_minivoice_escapes_json_breaking_text():
    text = '"}]}, {"hangup": {}} \\ \n\t\x00'
    assert mv(model.Speak(text), model.Transfer(text)) == [
        {"speak": {"text": text}},
        {"transfer": {"to": text}},
    ]


def test_minivoice_refuses_a_lone_surrogate():
    with pytest.raises(RenderError, match="U\\+DC80"):
        mv(model.Speak("a\udc80"))


# --- every action, OzML -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "elements"),
    [
        (send("1234#"), [keys("1234#")]),
        (model.Speak("Hello"), [("Speak", {}, "Hello")]),
        (model.Speak("Hallo", "de-DE"), [("Speak", {"Language": "de-DE"}, "Hallo")]),
        (model.Play("https://e.com/a.wav"), [("Play", {}, "https://e.com/a.wav")]),
        (
            model.CollectDigits(max_digits=4, timeout_ms=5000, next="route", finish_on_key="#"),
            [
                (
                    "UserInput",
                    {
                        "Digits": "4",
                        "Timeout": "5",
                        "ForwardToUrl": "https://tf.test/answer/ozml/f/route",
                    },
                    None,
                )
            ],
        ),
        (model.Redirect("menu"), [("GoTo", {}, "https://tf.test/answer/ozml/f/menu")]),
        (model.Transfer("+15551230000"), [("BlindTransfer", {}, "+15551230000")]),
        (model.Hangup(), [("Hangup", {}, None)]),
    ],
)
def test_each_action_as_ozml(action, elements):
    assert oz(action) == elements


def test_ozml_body_is_exact():
    body = oz_bytes(
        send("1234#", 2000),
        model.Speak("Hi", "en-US"),
        model.Play("https://e.com/a.wav"),
        model.CollectDigits(max_digits=1, timeout_ms=1500, next="route"),
        model.Redirect("menu"),
        model.Transfer("+1555"),
        model.Hangup(),
    )
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?><Response>'
        b"<Delay>2</Delay>"
        b'<SendDTMF Party="callee" Keys="1234#"></SendDTMF>'
        b'<Speak Language="en-US">Hi</Speak>'
        b"<Play>https://e.com/a.wav</Play>"
        b'<UserInput Digits="1" Timeout="2" '
        b'ForwardToUrl="https://tf.test/answer/ozml/f/route"></UserInput>'
        b"<GoTo>https://tf.test/answer/ozml/f/menu</GoTo>"
        b"<BlindTransfer>+1555</BlindTransfer>"
        b"<Hangup></Hangup>"
        b"</Response>"
    )


# --- OzML DTMF rules --------------------------------------------------------------------


@pytest.mark.parametrize(("char", "position"), [("A", 1), ("B", 3), ("C", 5), ("D", 2)])
def test_ozml_refuses_a_to_d_naming_character_and_position(char, position):
    digits = "1234#"[: position - 1] + char + "1234#"[position - 1 :]
    with pytest.raises(RenderError) as caught:
        oz(send(digits))
    message = str(caught.value)
    assert f"'{char}'" in message
    assert f"position {position}" in message
    assert "OzML" in message


@pytest.mark.parametrize(
    ("digits", "pause_before_ms", "elements"),
    [
        ("1234#", None, [keys("1234#")]),
        ("1234#", 0, [keys("1234#")]),  # a zero pause writes no Delay
        ("1234#", 2000, [delay(2), keys("1234#")]),
        ("1234#", 1200, [delay(2), keys("1234#")]),  # rounded up, never down
        ("1234#", 1, [delay(1), keys("1234#")]),
        ("1234#", 60000, [delay(60), keys("1234#")]),
        ("w1", None, [delay(1), keys("1")]),  # 500 ms is 1 s
        ("w1", 1200, [delay(2), keys("1")]),  # 1200 + 500 = 1700 ms: one Delay of 2
        ("W1", 1000, [delay(2), keys("1")]),  # joined, not Delay 1 then Delay 1
        ("ww1", 1000, [delay(2), keys("1")]),
        ("1ww2", None, [keys("1"), delay(1), keys("2")]),  # 500 + 500 ms
        ("1wW2", None, [keys("1"), delay(2), keys("2")]),  # 1500 ms rounds up to 2
        ("1,2", None, [keys("1"), delay(1), keys("2")]),
        ("1w,W,w2", None, [keys("1"), delay(3), keys("2")]),  # one run, summed: 3000 ms
        ("1W2W3", None, [keys("1"), delay(1), keys("2"), delay(1), keys("3")]),
        ("12w", None, [keys("12"), delay(1)]),
        ("*0#9", None, [keys("*0#9")]),
        ("W" * 5, 4000, [delay(9)]),
        # The conference seed: QQQQ1234SQQQQQ6654P.
        ("1234*WWWWW6654#", 4000, [delay(4), keys("1234*"), delay(5), keys("6654#")]),
    ],
)
def test_ozml_pauses_are_summed_per_run_and_rounded_up(digits, pause_before_ms, elements):
    assert oz(send(digits, pause_before_ms)) == elements


def test_ozml_party_default_flow_setting_and_override():
    assert oz(send("1")) == [keys("1", "callee")]
    assert oz(send("1"), party="caller") == [keys("1", "caller")]
    assert oz(send("1w2", party="all"), party="caller") == [
        keys("1", "all"),
        delay(1),
        keys("2", "all"),
    ]
    assert oz(send("1", party="callee"), send("2"), party="caller") == [
        keys("1", "callee"),
        keys("2", "caller"),
    ]


@pytest.mark.parametrize(
    ("timeout_ms", "seconds"),
    [(100, "1"), (999, "1"), (1000, "1"), (1001, "2"), (1500, "2"), (5000, "5"), (60000, "60")],
)
def test_user_input_timeout_rounds_up_to_whole_seconds(timeout_ms, seconds):
    ((tag, attributes, _),) = oz(model.CollectDigits(max_digits=2, timeout_ms=timeout_ms, next="n"))
    assert tag == "UserInput"
    assert attributes["Timeout"] == seconds


# --- text that would break XML ------------------------------------------------------------

NASTY = [
    "</Speak><Hangup></Hangup><Speak>",
    "Tom & Jerry <b>bold</b> &amp; &#x41; &unknown;",
    "<![CDATA[ x ]]> ]]> <!-- comment --> <?pi x?>",
    "\"double\" and 'single' quotes",
    '<!DOCTYPE x [<!ENTITY e "boom">]>&e;',
]


@pytest.mark.parametrize("text", NASTY)
def test_xml_breaking_text_comes_out_as_text(text):
    body = oz_bytes(
        model.Speak(text, language=text),
        model.Transfer(text),
        model.Play(text),
    )
    assert body.startswith(DECLARATION + b"<Response>")
    root = ET.fromstring(body)
    assert [(child.tag, child.text) for child in root] == [
        ("Speak", text),
        ("BlindTransfer", text),
        ("Play", text),
    ]
    assert root[0].get("Language") == text
    assert len(root) == 3


def test_line_breaks_and_tabs_survive_in_attributes():
    ((_, attributes, text),) = oz(model.Speak("one\ntwo\tthree", language="a\nb\tc"))
    assert (attributes["Language"], text) == ("a\nb\tc", "one\ntwo\tthree")


@pytest.mark.parametrize(
    ("action", "where"),
    [
        (model.Speak("ok\x01"), "<Speak> text holds U+0001 at character 3"),
        (model.Speak("ok", "en\x0b"), "<Speak Language> holds U+000B at character 3"),
        (model.Transfer("\x00"), "<BlindTransfer> text holds U+0000 at character 1"),
        (model.Play("https://e.com/\ufffe"), "<Play> text holds U+FFFE at character 15"),
        (model.Speak("a\ud800"), "<Speak> text holds U+D800 at character 2"),
    ],
)
def test_ozml_refuses_characters_xml_cannot_carry(action, where):
    with pytest.raises(RenderError) as caught:
        oz_bytes(model.Speak("fine"), action)
    assert str(caught.value) == f"{where}, which XML cannot carry"


def test_characters_xml_allows_pass():
    text = "tab\there \x7f\x85 \ud7ff \ue000 \ufffd \U0001f600 \U0010ffff"
    assert oz(model.Speak(text)) == [("Speak", {}, text)]


# --- through a compiled flow ---------------------------------------------------------------

ALL_ACTIONS = """\
party: caller
steps:
  all:
    - send_digits: {digits: "w12W#", pause_before_ms: 700}
    - send_digits: {digits: "9", party: callee}
    - speak: Tom & Jerry <here>
    - speak: {text: Hallo, language: de-DE}
    - play: "https://e.com/a.wav?x=1&y=2"
    - collect_digits: {max_digits: 3, timeout_ms: 2500, finish_on_key: "*", next: end}
    - redirect: end
    - transfer: {to: "sip:a&b@x"}
  end:
    - hangup: {}
"""


@pytest.fixture(scope="module")
def all_actions() -> FlowSet:
    flow, problems = compile_flow("f", "f.yaml", dedent(ALL_ACTIONS).encode(), max_digits=128)
    assert [p for p in problems if p.severity == "error"] == []
    return FlowSet({"f": flow})


def test_every_action_of_a_flow_as_minivoice(all_actions):
    served = answer(all_actions, "f", None, "minivoice", AnswerRequest(), "https://tf.test")
    assert json.loads(served.body) == {
        "actions": [
            {"send_digits": {"digits": "w12W#", "pause_before_ms": 700}},
            {"send_digits": {"digits": "9"}},
            {"speak": {"text": "Tom & Jerry <here>"}},
            {"speak": {"text": "Hallo", "language": "de-DE"}},
            {"play": {"url": "https://e.com/a.wav?x=1&y=2"}},
            {
                "collect_digits": {
                    "max_digits": 3,
                    "timeout_ms": 2500,
                    "finish_on_key": "*",
                    "action_url": "https://tf.test/answer/minivoice/f/end",
                }
            },
            {"redirect": {"url": "https://tf.test/answer/minivoice/f/end"}},
            {"transfer": {"to": "sip:a&b@x"}},
        ]
    }


def test_every_action_of_a_flow_as_ozml(all_actions):
    served = answer(all_actions, "f", None, "ozml", AnswerRequest(), "https://tf.test")
    assert served.body == (
        b'<?xml version="1.0" encoding="UTF-8"?><Response>'
        b"<Delay>2</Delay>"  # 700 + 500 ms, rounded up
        b'<SendDTMF Party="caller" Keys="12"></SendDTMF>'
        b"<Delay>1</Delay>"
        b'<SendDTMF Party="caller" Keys="#"></SendDTMF>'
        b'<SendDTMF Party="callee" Keys="9"></SendDTMF>'
        b"<Speak>Tom &amp; Jerry &lt;here&gt;</Speak>"
        b'<Speak Language="de-DE">Hallo</Speak>'
        b"<Play>https://e.com/a.wav?x=1&amp;y=2</Play>"
        b'<UserInput Digits="3" Timeout="3" '
        b'ForwardToUrl="https://tf.test/answer/ozml/f/end"></UserInput>'
        b"<GoTo>https://tf.test/answer/ozml/f/end</GoTo>"
        b"<BlindTransfer>sip:a&amp;b@x</BlindTransfer>"
        b"</Response>"
    )
    end = answer(all_actions, "f", "end", "ozml", AnswerRequest(), "https://tf.test")
    assert end.body == DECLARATION + b"<Response><Hangup></Hangup></Response>"


# --- DTMF as OzML elements (the groups come from toneflow.dtmf.ozml_timing) ----------------


def to_ozml(text: str, dialect: str, *, round_up: bool = False) -> str:
    """``text`` re-spelled as OzML, as ``toneflow dtmf convert --to ozml`` prints it."""
    return ozml.dtmf_fragment(parse(text, dialect), round_up=round_up, source=text)


def fragment(xml_text: str) -> list[ET.Element]:
    return list(ET.fromstring(f"<Response>{xml_text}</Response>"))


@pytest.mark.parametrize("keys", ["123", "321", "01234"])
def test_ozml_seed_keys_parse_and_render_as_send_dtmf(keys):
    seq = parse(keys, "ozml")
    assert keys_of(seq) == keys
    (element,) = fragment(ozml.dtmf_fragment(seq))
    assert element.tag == "SendDTMF"
    assert element.attrib == {"Party": "callee", "Keys": keys}


def test_ozml_seed_element_for_the_caller():
    (element,) = ozml.dtmf_elements(ozml_segments(parse("123", "ozml")), "caller")
    assert ET.tostring(element, encoding="unicode") == '<SendDTMF Party="caller" Keys="123" />'


def test_render_to_ozml_is_an_xml_fragment_and_exact_unless_rounding_up():
    elements = fragment(ozml.dtmf_fragment(parse("QQ12Q3", "vicidial")))
    assert [(e.tag, e.text, e.get("Keys")) for e in elements] == [
        ("Delay", "2", None),
        ("SendDTMF", None, "12"),
        ("Delay", "1", None),
        ("SendDTMF", None, "3"),
    ]
    with pytest.raises(DtmfError) as caught:
        to_ozml("1w2", "minivoice")
    assert caught.value.position == 2
    with pytest.raises(DtmfError) as caught:
        to_ozml("1wA", "minivoice")
    assert (caught.value.char, caught.value.position) == ("w", 2)  # the first problem
    with pytest.raises(DtmfError) as caught:
        to_ozml("1wA", "minivoice", round_up=True)
    assert (caught.value.char, caught.value.position) == ("A", 3)
    elements = fragment(to_ozml("1w2", "minivoice", round_up=True))
    assert [e.text for e in elements if e.tag == "Delay"] == ["1"]


def test_ozml_elements_are_built_with_elementtree_and_escape_values():
    elements = ozml.dtmf_elements([OzmlDelay(3, 2100, 1), OzmlKeys("12#", 2)], "all")
    assert [ET.tostring(e, encoding="unicode") for e in elements] == [
        "<Delay>3</Delay>",
        '<SendDTMF Party="all" Keys="12#" />',
    ]
    # whatever reaches Keys is escaped by the library, never pasted in
    (element,) = ozml.dtmf_elements([OzmlKeys('"/><x', 1)], "callee")
    assert ET.fromstring(ET.tostring(element)).get("Keys") == '"/><x'


def test_ozml_elements_refuse_an_unknown_party():
    with pytest.raises(ValueError, match="party"):
        ozml.dtmf_elements([OzmlKeys("1", 1)], "everyone")
