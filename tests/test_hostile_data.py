"""Hostile data: numbers that must stay masked, call ids of either kind, dates from the
future, and numbers mangled by form encoding. Each test failed before its fix (issue 10,
items 4, 10, 11 and 15).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from store_support import get_call, list_calls, post, record_answer, served
from structlog.testing import capture_logs
from support import ROOT
from test_web_support import PASSWORD, sign_in

from toneflow.redact import looks_like_phone_number, mask_document
from toneflow.store.access import add_user

#: Reads the caller's number and a callback variable back, so the body holds them too.
ECHO_FLOW = """
steps:
  start:
    - speak: "You called from {{ call.from }}; we will call {{ variables.callback }}."
    - hangup: {}
"""
NUMBER = "+15551230001"
CALLBACK = "555-123-4567"


def digit_windows(number: str, width: int = 7) -> set[str]:
    """Every run of ``width`` consecutive digits of ``number`` (its digits only)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return {digits[i : i + width] for i in range(len(digits) - width + 1)}


def leaks(text: str, *numbers: str) -> list[str]:
    """The parts of ``numbers`` found in ``text``: the number as written or 7 of its digits."""
    found = [number for number in numbers if number in text]
    found += [w for number in numbers for w in digit_windows(number) if w in text]
    return found


def redacting_client(client_for):
    return client_for({"echo.yaml": ECHO_FLOW}, REDACT_NUMBERS=True)


def answer_url(call_id: str, number: str = NUMBER, callback: str = CALLBACK) -> str:
    return (
        f"/answer/minivoice/echo?call_id={call_id}&from={quote(number)}&callback={quote(callback)}"
    )


# --- item 4: with redaction on, no output carries a whole number ---------------------


def test_a_failed_store_write_logs_the_record_masked(client_for):
    client = redacting_client(client_for)
    with client.application.extensions["toneflow.call_log"].engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE answers"))
    with capture_logs() as logs:
        response = client.get(answer_url("lost1"))
    # The platform still gets the whole number read back: only what is kept is masked.
    assert response.status_code == 200
    assert NUMBER in response.get_data(as_text=True)
    failure = next(e for e in logs if e["event"] == "store_write_failed")
    assert failure["record"]["from_number"] == "+*******0001"
    assert failure["record"]["request"]["variables"]["callback"] == "***-***-4567"
    assert "+*******0001" in failure["record"]["body"]
    assert "no such table" in failure["error"] or "answers" in failure["error"]
    assert leaks(json.dumps(logs), NUMBER, CALLBACK) == []


def test_answers_events_pages_api_and_cli_show_no_whole_number(client_for, monkeypatch):
    client = redacting_client(client_for)
    with capture_logs() as logs:
        assert client.get(answer_url("red1")).status_code == 200
        event = {
            "event": "call.completed",
            "created_at": "2026-05-29T12:10:00Z",
            "call": {"id": "red1", "from": NUMBER, "forwarded_from": "+1 (555) 123-0002"},
            "variables": {"callback": CALLBACK, "when": "2026-05-29"},
        }
        assert client.post("/events/minivoice", json=event).status_code == 200
    record = client.get("/api/calls/red1").json
    assert record["answers"][0]["request"]["variables"]["callback"] == "***-***-4567"
    body = record["events"][0]["body"]
    assert body["call"]["forwarded_from"] == "+* (***) ***-0002"
    assert body["variables"] == {"callback": "***-***-4567", "when": "2026-05-29"}
    outputs = [json.dumps(logs), json.dumps(record), client.get("/api/calls").get_data(True)]

    engine = client.application.extensions["toneflow.call_log"].engine
    add_user(engine, "alice", PASSWORD)
    staff = client.application.test_client()
    sign_in(staff)
    outputs.append(staff.get("/support/calls").get_data(as_text=True))
    outputs.append(staff.get("/support/calls/red1").get_data(as_text=True))

    from toneflow.cli import cli

    monkeypatch.setenv("DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("TONEFLOW_REDACT_NUMBERS", "1")
    for args in (["calls", "list"], ["calls", "show", "red1"], ["calls", "export"],
                 ["calls", "export", "--format", "csv"]):  # fmt: skip
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    for output in outputs:
        assert "red1" in output or output is outputs[0]
        assert leaks(output, NUMBER, CALLBACK, "+1 (555) 123-0002") == []


def test_numbers_stored_before_redaction_are_masked_on_the_way_out(engine):
    record_answer(
        engine,
        served(
            "start",
            request={"call": {"id": "call_123", "from": NUMBER}, "variables": {"cb": CALLBACK}},
            body=f"<Speak>{NUMBER} and {CALLBACK}</Speak>",
        ),
    )
    post(engine, **{"from": NUMBER})
    for record in (get_call(engine, "call_123", redact_numbers=True),
                   list_calls(engine, redact_numbers=True).calls[0]):  # fmt: skip
        assert leaks(json.dumps(record), NUMBER, CALLBACK) == []
    assert get_call(engine, "call_123")["answers"][0]["body"].count("5551230001") == 1


PHONE_NUMBERS = st.builds(
    lambda plus, groups, sep: plus + sep.join(groups),
    st.sampled_from(["", "+"]),
    st.lists(st.text("0123456789", min_size=1, max_size=5), min_size=1, max_size=5).filter(
        lambda groups: 7 <= len("".join(groups)) <= 15
    ),
    st.sampled_from(["", " ", "-", "."]),
)


def test_no_output_holds_seven_digits_of_a_number_in_a_row(client_for):
    client = redacting_client(client_for)  # one app (and API token) for every example

    @settings(max_examples=25, deadline=None)
    @given(number=PHONE_NUMBERS, callback=PHONE_NUMBERS)
    def check(number, callback):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", callback):
            callback = callback.replace("-", " ")  # a date, not a number: shown as sent
        call_id = f"h{abs(hash((number, callback)))}"
        with capture_logs() as logs:
            client.get(answer_url(call_id, number, callback))
            event = {
                "event": "call.completed",
                "created_at": "2026-05-29T12:10:00Z",
                "call": {"id": call_id, "to": number},
                "variables": {"cb": callback},
            }
            client.post("/events/minivoice", json=event)
        record = client.get(f"/api/calls/{call_id}").json
        # A content hash: its hex may hold seven digits in a row, by chance.
        for entry in [*logs, *record["answers"]]:
            entry.pop("flow_version", None)
        listed = client.get(f"/api/calls?q={quote(call_id)}").json
        shown = json.dumps([logs, record, listed])
        assert leaks(shown.replace(call_id, ""), number, callback) == []

    check()


def test_what_looks_like_a_phone_number():
    for text in ("+15551230001", "555-123-4567", "+44 (20) 7946 0958", "555.1230", " 5551230 "):
        assert looks_like_phone_number(text), text
    for value in ("123456", "2026-05-29", "call_5551230001", "+1555123000123456", "1+5551230",
                  15551230001, True, None, "5551230x"):  # fmt: skip
        assert not looks_like_phone_number(value), value
    # The call id is matched exactly, so it is never masked, whatever it looks like.
    assert mask_document({"call": {"id": "5551230001"}})["call"]["id"] == "5551230001"


# --- item 10: one rule for call ids ------------------------------------------------------


def test_a_numeric_call_id_on_an_event_completes_the_call_answered_as_that_number(client):
    assert client.get("/answer/minivoice/menu?call_id=42").status_code == 200
    event = {"event": "call.completed", "created_at": "2026-05-29T12:10:00Z", "call": {"id": 42}}
    response = client.post("/events/minivoice", json=event)
    assert response.status_code == 200, response.json
    record = client.get("/api/calls/42").json
    assert record["status"] == "completed"
    assert record["last_step"] == "greet"
    assert record["events"][0]["body"]["call"]["id"] == 42  # stored as sent


def test_call_ids_follow_the_same_limits_on_answers_and_events(client):
    for bad in (True, "", "x" * 129, "a\x00b", 4.5):
        event = {"event": "call.completed", "created_at": "2026-05-29T12:10:00Z",
                 "call": {"id": bad}}  # fmt: skip
        on_event = client.post("/events/minivoice", json=event)
        on_answer = client.post("/answer/minivoice/menu", json={"call": {"id": bad}})
        assert on_event.status_code == on_answer.status_code == 400, bad
        assert "call.id" in on_event.json["error"]["message"]
        assert "call.id" in on_answer.json["error"]["message"]


# --- item 11: an event from the future does not freeze the call ---------------------


FAR_FUTURE = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
RECEIVED = datetime(2026, 5, 29, 12, 0, tzinfo=UTC)


def test_a_future_dated_status_is_placed_at_its_receipt(engine):
    post(engine, "call.answered", created_at=FAR_FUTURE, received_at=RECEIVED, status="answered")
    genuine = RECEIVED + timedelta(minutes=3)
    post(engine, created_at=genuine, received_at=genuine + timedelta(seconds=1), status="completed")
    record = get_call(engine, "call_123")
    assert record["status"] == "completed"
    assert record["completed_at"] == "2026-05-29T12:03:00Z"
    # Stored as sent, flagged, and on the timeline where the status order puts it.
    bogus, real = record["events"]
    assert (bogus["event"], bogus["created_at"]) == ("call.answered", "9999-12-31T23:59:00Z")
    assert bogus["body"]["created_at"] == "9999-12-31T23:59:00Z"
    assert bogus["future_dated"] is True
    assert real["future_dated"] is False


def test_a_future_dated_completion_counts_from_its_receipt_and_an_earlier_one_wins(engine):
    post(engine, created_at=FAR_FUTURE, received_at=RECEIVED, status="completed")
    assert get_call(engine, "call_123")["completed_at"] == "2026-05-29T12:00:00Z"
    # The genuine completion, delivered late, happened before the bogus one arrived.
    genuine = RECEIVED - timedelta(seconds=30)
    post(engine, created_at=genuine, received_at=RECEIVED + timedelta(seconds=5), webhook_id="w2")
    assert get_call(engine, "call_123")["completed_at"] == "2026-05-29T11:59:30Z"


def test_a_few_minutes_of_clock_drift_is_believed(engine):
    post(engine, "call.answered", created_at=RECEIVED + timedelta(minutes=4), received_at=RECEIVED,
         status="answered")  # fmt: skip
    post(engine, "call.ringing", created_at=RECEIVED + timedelta(minutes=1),
         received_at=RECEIVED + timedelta(seconds=1), status="ringing")  # fmt: skip
    record = get_call(engine, "call_123")
    assert record["status"] == "answered"
    assert [e["future_dated"] for e in record["events"]] == [False, False]


def test_the_call_page_flags_a_future_dated_event(client, app):
    event = {"event": "call.answered", "created_at": "9999-12-31T00:00:00Z",
             "call": {"id": "fut1", "status": "answered"}}  # fmt: skip
    assert client.post("/events/minivoice", json=event).status_code == 200
    event = {**event, "created_at": datetime.now(UTC).isoformat(),
             "call": {"id": "fut1", "status": "completed"}, "event": "call.completed"}  # fmt: skip
    assert client.post("/events/minivoice", json=event).status_code == 200
    assert client.get("/api/calls/fut1").json["status"] == "completed"
    add_user(app.extensions["toneflow.call_log"].engine, "alice", PASSWORD)
    staff = app.test_client()
    sign_in(staff)
    page = staff.get("/support/calls/fut1").get_data(as_text=True)
    assert page.count("Future-dated") == 1
    assert "9999-12-31" in page


# --- item 15: numbers arrive without the whitespace form encoding adds ----------------


def test_numbers_are_stripped_of_surrounding_whitespace_everywhere(client):
    # An unencoded "+" in a form is a space: the number is still found without it.
    form = "CallId=oz1&Caller=+15551230001&Callee=%20%2B15551230002%09"
    response = client.post(
        "/answer/ozml/menu", data=form, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    record = client.get("/api/calls/oz1").json
    assert (record["from"], record["to"]) == ("15551230001", "+15551230002")
    assert client.get("/api/calls?q=15551230001").json["calls"][0]["call_id"] == "oz1"
    assert client.get("/api/calls?q=%2B15551230002").json["calls"][0]["call_id"] == "oz1"
    client.get("/answer/minivoice/menu?call_id=q1&from=+15551230003")
    assert client.get("/api/calls/q1").json["from"] == "15551230003"
    client.post("/answer/minivoice/menu", json={"call": {"id": "j1", "to": " +15551230004\n"}})
    assert client.get("/api/calls/j1").json["to"] == "+15551230004"
    event = {"event": "call.completed", "created_at": "2026-05-29T12:10:00Z",
             "call": {"id": "e1", "from": " +15551230005 "}}  # fmt: skip
    assert client.post("/events/minivoice", json=event).status_code == 200
    record = client.get("/api/calls/e1").json
    assert record["from"] == "+15551230005"
    assert record["events"][0]["body"]["call"]["from"] == " +15551230005 "  # as sent


def test_the_readme_sends_a_plus_in_a_form_url_encoded():
    commands = [line for line in (ROOT / "README.md").read_text().splitlines() if " -d " in line]
    assert commands
    for line in commands:
        assert not re.search(r"(?:-d|--data) \S+=\+", line), line
