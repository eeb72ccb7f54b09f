"""The answer endpoints, through the real app: seeds, dialects, request shapes, errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from store_support import use_store

SEED_CONFIRMATION = {"actions": [{"send_digits": {"digits": "1234#"}}]}


def xml_children(response) -> list[tuple[str, dict, str | None]]:
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return [(child.tag, child.attrib, child.text) for child in root]


def test_minivoice_seed_example_is_served_exactly(client_for):
    client = client_for(
        {
            "seed.yaml": """
        steps:
          confirm:
            - send_digits: "1234#"
    """
        }
    )
    response = client.get("/answer/minivoice/seed")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.json == SEED_CONFIRMATION


def test_ozml_seed_example_caller_and_callee_keys(client):
    response = client.get("/answer/ozml/dtmf_parties")
    assert response.status_code == 200
    assert response.content_type == "application/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response>')
    assert xml_children(response) == [
        ("Speak", {}, "You will get dtmf keys 123."),
        ("SendDTMF", {"Party": "caller", "Keys": "123"}, None),
        ("Speak", {}, "You will get dtmf keys 321."),
        ("SendDTMF", {"Party": "callee", "Keys": "321"}, None),
    ]


def test_vicidial_conference_scenario_waits_4s_then_5s(client):
    """QQQQ1234SQQQQQ6654P: wait 4 s, 1234, star, wait 5 s, 6654, pound."""
    response = client.get("/answer/ozml/conference_pin")
    assert xml_children(response)[:4] == [
        ("Delay", {}, "4"),
        ("SendDTMF", {"Party": "callee", "Keys": "1234*"}, None),
        ("Delay", {}, "5"),
        ("SendDTMF", {"Party": "callee", "Keys": "6654#"}, None),
    ]
    minivoice = client.get("/answer/minivoice/conference_pin").json
    assert minivoice["actions"][0] == {
        "send_digits": {"digits": "1234*WWWWW6654#", "pause_before_ms": 4000}
    }


def test_appointment_code_from_each_request_shape(client):
    """GET query, POST JSON and POST form all reach the template the same way."""
    expected = {"send_digits": {"digits": "4321#", "pause_before_ms": 2000}}
    by_get = client.get("/answer/minivoice/appointment?call_id=c1&confirmation_code=4321")
    by_json = client.post(
        "/answer/minivoice/appointment",
        json={"call": {"id": "c2"}, "variables": {"confirmation_code": "4321"}},
    )
    by_form = client.post(
        "/answer/minivoice/appointment", data={"CallId": "c3", "confirmation_code": "4321"}
    )
    for response in (by_get, by_json, by_form):
        assert response.status_code == 200
        assert response.json["actions"][1] == expected


def test_ozeki_form_post_with_collected_digits_drives_the_switch(client):
    response = client.post(
        "/answer/ozml/menu/route",
        data={
            "NotificationName": "UserInput",
            "CallId": "oz1",
            "Caller": "+15550001",
            "Callee": "+15550002",
            "DtmfDigits": "1",
        },
    )
    assert xml_children(response) == [
        ("Speak", {}, "Connecting you to sales."),
        ("BlindTransfer", {}, "+15551230010"),
    ]


@pytest.mark.parametrize(
    ("digits", "step_text"),
    [
        ("2", "Connecting you to support."),
        ("0", "Press 1 for sales, 2 for support, or 0 to hear these options again."),
        ("9", "Sorry, we did not get that. Goodbye."),  # no case: default
        ("", "Sorry, we did not get that. Goodbye."),  # empty: default
    ],
)
def test_switch_is_decided_on_the_server(client, digits, step_text):
    response = client.get(f"/answer/minivoice/menu/route?digits={digits}")
    assert response.json["actions"][0]["speak"]["text"] == step_text


def test_switch_with_no_digits_at_all_goes_to_default(client):
    response = client.get("/answer/minivoice/menu/route")
    assert response.json["actions"][0]["speak"]["text"].startswith("Sorry")


def test_every_action_in_both_dialects(client):
    minivoice = client.get("/answer/minivoice/menu/menu").json
    assert minivoice == {
        "actions": [
            {
                "speak": {
                    "text": "Press 1 for sales, 2 for support, or 0 to hear these options again.",
                    "language": "en-US",
                }
            },
            {
                "collect_digits": {
                    "max_digits": 1,
                    "timeout_ms": 5000,
                    "finish_on_key": "#",
                    "action_url": "https://toneflow.test/answer/minivoice/menu/route",
                }
            },
        ]
    }
    assert client.get("/answer/minivoice/menu").json == {
        "actions": [
            {"play": {"url": "https://assets.example.com/prompts/welcome.wav"}},
            {"redirect": {"url": "https://toneflow.test/answer/minivoice/menu/menu"}},
        ]
    }
    assert xml_children(client.get("/answer/ozml/menu")) == [
        ("Play", {}, "https://assets.example.com/prompts/welcome.wav"),
        ("GoTo", {}, "https://toneflow.test/answer/ozml/menu/menu"),
    ]
    assert xml_children(client.get("/answer/ozml/menu/menu"))[1] == (
        "UserInput",
        {
            "Digits": "1",
            "Timeout": "5",
            "ForwardToUrl": "https://toneflow.test/answer/ozml/menu/route",
        },
        None,
    )
    assert xml_children(client.get("/answer/ozml/menu/goodbye"))[1] == ("Hangup", {}, None)
    assert b"<Hangup></Hangup>" in client.get("/answer/ozml/menu/goodbye").data
    assert client.get("/answer/minivoice/menu/goodbye").json["actions"][1] == {"hangup": {}}
    assert client.get("/answer/minivoice/menu/sales").json["actions"][1] == {
        "transfer": {"to": "+15551230010"}
    }


def test_xml_breaking_text_comes_out_as_text(client_for):
    client = client_for(
        {
            "x.yaml": """
        steps:
          s:
            - speak: "</Speak><Hangup/>"
            - transfer: "{{ variables.dest }}"
    """
        }
    )
    response = client.get("/answer/ozml/x", query_string={"dest": '"/><Hangup/><x a="'})
    assert xml_children(response) == [
        ("Speak", {}, "</Speak><Hangup/>"),
        ("BlindTransfer", {}, '"/><Hangup/><x a="'),
    ]


def test_ozml_refuses_a_to_d_with_its_position_and_falls_back(client_for):
    client = client_for(
        {
            "abcd.yaml": """
        fallback: sorry
        steps:
          s:
            - send_digits: "12A4"
          sorry:
            - hangup: {}
    """
        }
    )
    assert client.get("/answer/minivoice/abcd?call_id=m1").json == {
        "actions": [{"send_digits": {"digits": "12A4"}}]
    }
    response = client.get("/answer/ozml/abcd?call_id=o1")
    assert response.status_code == 200
    assert xml_children(response) == [("Hangup", {}, None)]
    record = client.get("/api/calls/o1").json
    assert record["outcome"]["kind"] == "fell_back"
    assert record["outcome"]["step"] == "s"
    assert "'A' at position 3" in record["outcome"]["reason"]


def test_ozml_pauses_are_summed_per_run_and_rounded_up(client_for):
    client = client_for(
        {
            "pauses.yaml": """
        steps:
          s:
            - send_digits: {digits: "w12wW3,", pause_before_ms: 1200}
            - send_digits: {digits: "9", pause_before_ms: 0}
    """
        }
    )
    assert xml_children(client.get("/answer/ozml/pauses")) == [
        ("Delay", {}, "2"),  # 1200 ms + w (500) = 1.7 s → 2
        ("SendDTMF", {"Party": "callee", "Keys": "12"}, None),
        ("Delay", {}, "2"),  # w + W = 1.5 s → 2
        ("SendDTMF", {"Party": "callee", "Keys": "3"}, None),
        ("Delay", {}, "1"),  # trailing , = 0.5 s → 1
        ("SendDTMF", {"Party": "callee", "Keys": "9"}, None),  # zero pause: no Delay
    ]


def test_rendered_digits_are_validated_again(client_for):
    client = client_for(
        {
            "t.yaml": """
        fallback: sorry
        steps:
          s:
            - send_digits: "{{ variables.code }}"
          sorry:
            - speak: Sorry.
    """
        }
    )
    good = client.get("/answer/minivoice/t?code=55%23")
    assert good.json == {"actions": [{"send_digits": {"digits": "55#"}}]}
    bad = client.get("/answer/minivoice/t?call_id=bad1&code=5X5")
    assert bad.json == {"actions": [{"speak": {"text": "Sorry."}}]}
    answer = client.get("/api/calls/bad1").json["answers"][0]
    assert answer["step"] == "sorry"
    assert answer["fallback_from"] == "s"
    assert "invalid DTMF character 'X' at position 2" in answer["fallback_reason"]


def test_no_fallback_is_a_500_with_the_error_shape(client_for):
    client = client_for(
        {
            "t.yaml": """
        steps:
          s:
            - speak: "{{ variables.name }}"
    """
        }
    )
    response = client.get("/answer/minivoice/t")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "answer_url_error"
    assert "name" in response.json["error"]["message"]


def test_sandbox_blocks_python_internals(client_for):
    client = client_for(
        {
            "t.yaml": """
        fallback: safe
        steps:
          s:
            - speak: "{{ variables.x.__class__.__mro__ }}"
          safe:
            - speak: safe
    """
        }
    )
    response = client.get("/answer/minivoice/t?x=1")
    assert response.json == {"actions": [{"speak": {"text": "safe"}}]}


def test_template_values_are_never_templates_again(client_for):
    """A variable holding Jinja syntax is text, not a second template."""
    client = client_for(
        {
            "t.yaml": """
        steps:
          s:
            - speak: "{{ variables.x }}"
    """
        }
    )
    response = client.get("/answer/minivoice/t", query_string={"x": "{{ 7 * 7 }}"})
    assert response.json == {"actions": [{"speak": {"text": "{{ 7 * 7 }}"}}]}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/answer/minivoice/nope", 404, "not_found"),
        ("/answer/minivoice/menu/nope", 404, "not_found"),
        ("/answer/ozml/..%2F..%2Fetc%2Fpasswd", 404, "not_found"),
        ("/answer/sip/menu", 404, "not_found"),
    ],
)
def test_unknown_flow_step_or_dialect_is_404(client, path, status, code):
    response = client.get(path)
    assert response.status_code == status
    assert response.json["error"]["code"] == code


def test_wrong_content_type_is_415(client):
    response = client.post("/answer/minivoice/menu", data="hello", content_type="text/plain")
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "must be an object"),
        ('{"variables": 5}', "variables"),
        ('{"call": {"id": ["x"]}}', "call.id"),
        ('{"call": "call_1"}', "call: must be an object"),
        ('{"input": ["1"]}', "input: must be an object"),
        ('{"call": {"id": "a\\u0000b"}}', "call.id: must not contain NUL characters"),
        ("[" * 100_000, "malformed JSON"),
    ],
)
def test_malformed_json_is_400_naming_the_problem(client, body, message):
    response = client.post("/answer/minivoice/menu", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert message in response.json["error"]["message"]


def test_body_over_the_limit_is_413(app, client):
    limit = app.config["MAX_BODY_BYTES"]
    response = client.post(
        "/answer/minivoice/menu", data="x" * (limit + 1), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_chunked_body_over_the_limit_is_413(app, client):
    """No Content-Length: Werkzeug must still stop reading at the limit."""
    import io

    limit = app.config["MAX_BODY_BYTES"]
    response = client.post(
        "/answer/minivoice/menu",
        input_stream=io.BytesIO(b"{" + b" " * (limit + 10) + b"}"),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_answer_is_recorded_on_the_call(client):
    client.get(
        "/answer/minivoice/appointment",
        query_string={
            "call_id": "rec1",
            "from": "+15550001",
            "to": "+15550002",
            "confirmation_code": "77",
        },
    )
    record = client.get("/api/calls/rec1").json
    assert record["flow"] == "appointment"
    assert record["dialect"] == "minivoice"
    assert record["from"] == "+15550001"
    assert record["last_step"] == "connect"
    answer = record["answers"][0]
    assert answer["request"]["variables"] == {"confirmation_code": "77"}
    assert (
        answer["body"]
        == client.get("/answer/minivoice/appointment?confirmation_code=77").data.decode()
    )
    assert len(answer["flow_version"]) == 12


def test_a_request_without_call_id_is_answered_but_not_recorded(app, client):
    response = client.get("/answer/minivoice/menu")
    assert response.status_code == 200
    with app.extensions["toneflow.call_log"].engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from answers")).scalar() == 0


def test_store_failure_still_serves_the_answer_and_logs_the_record(app, client):
    from structlog.testing import capture_logs

    use_store(app, sa.create_engine("sqlite:////nonexistent/dir/x.db")).dispose()
    with capture_logs() as logs:
        response = client.get("/answer/minivoice/menu?call_id=lost1")
    assert response.status_code == 200
    failure = next(e for e in logs if e["event"] == "store_write_failed")
    assert failure["record"]["call_id"] == "lost1"
    assert failure["record"]["body"] == response.data.decode()


def test_answer_served_log_carries_body_and_context(client):
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        response = client.get("/answer/minivoice/menu?call_id=log1")
    served = next(e for e in logs if e["event"] == "answer_served")
    assert served["body"] == response.data.decode()
    assert served["dialect"] == "minivoice"
