"""``/api/calls/<id>``, ``/healthz``, request ids and the error shape of HTTP errors."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime

import pytest
import sqlalchemy as sa
import structlog
from store_support import use_store

RECORD_KEYS = [
    "call_id",
    "flow",
    "dialect",
    "status",
    "direction",
    "from",
    "to",
    "customer_id",
    "application_id",
    "first_seen",
    "last_seen",
    "completed_at",
    "last_step",
    "flow_version",
    "outcome",
    "duration_s",
    "hangup_cause",
    "answers",
    "events",
    "verifications",
    "pushes",
]
ANSWER_KEYS = [
    "at",
    "dialect",
    "flow",
    "flow_version",
    "step",
    "request",
    "body",
    "duration_ms",
    "fallback_from",
    "fallback_reason",
    "status",
    "error_reason",
    "decision",
]
EVENT_KEYS = ["received_at", "webhook_id", "event", "created_at", "future_dated", "body"]
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")

COMPLETED = {
    "event": "call.completed",
    "created_at": "2026-05-29T12:10:00Z",
    "call": {"id": "shape1", "status": "completed"},
}


def is_iso_utc(value: str) -> bool:
    return bool(ISO_UTC.match(value)) and datetime.fromisoformat(value) is not None


def assert_error_shape(response, status: int, code: str) -> str:
    assert response.status_code == status
    assert response.content_type == "application/json"
    body = json.loads(response.data)
    assert list(body) == ["error"]
    assert list(body["error"]) == ["code", "message"]
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]["message"]


@pytest.fixture
def broken_store(app):
    """Point the app at a store that cannot be reached; put the real one back after."""
    real = app.extensions["toneflow.call_log"].engine

    def break_it():
        use_store(app, sa.create_engine("sqlite:////nonexistent/dir/x.db"))

    def restore():
        broken = app.extensions["toneflow.call_log"].engine
        if broken is not real:
            broken.dispose()
            use_store(app, real)

    break_it.restore = restore
    yield break_it
    restore()


# --- the call record --------------------------------------------------------------


def test_call_record_has_exactly_the_contract_shape(client):
    answered = client.get(
        "/answer/minivoice/menu",
        query_string={
            "call_id": "shape1",
            "from": "+15550001",
            "to": "+15550002",
            "direction": "inbound",
            "customer_id": "cust_9",
            "application_id": "app_9",
            "campaign": "spring",
        },
    )
    stored = client.post("/events/minivoice", json=COMPLETED, headers={"webhook-id": "msg_shape1"})
    assert stored.status_code == 200

    response = client.get("/api/calls/shape1")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    record = response.json
    assert list(record) == RECORD_KEYS
    assert {k: record[k] for k in RECORD_KEYS[:9]} == {
        "call_id": "shape1",
        "flow": "menu",
        "dialect": "minivoice",
        "status": "completed",
        "direction": "inbound",
        "from": "+15550001",
        "to": "+15550002",
        "customer_id": "cust_9",
        "application_id": "app_9",
    }
    assert is_iso_utc(record["first_seen"])
    assert is_iso_utc(record["last_seen"])
    assert record["first_seen"] <= record["last_seen"]
    assert record["completed_at"] == "2026-05-29T12:10:00Z"
    assert record["last_step"] == "greet"
    assert record["outcome"] == {"kind": "abandoned", "step": "greet", "reason": None}
    assert list(record["outcome"]) == ["kind", "step", "reason"]

    [answer] = record["answers"]
    assert list(answer) == ANSWER_KEYS
    assert is_iso_utc(answer["at"])
    assert answer["dialect"] == "minivoice"
    assert answer["flow"] == "menu"
    assert re.fullmatch(r"[0-9a-f]{12}", answer["flow_version"])
    assert answer["step"] == "greet"
    assert answer["request"] == {
        "call": {
            "id": "shape1",
            "from": "+15550001",
            "to": "+15550002",
            "direction": "inbound",
            "customer_id": "cust_9",
            "application_id": "app_9",
        },
        "input": {"digits": None},
        "variables": {"campaign": "spring"},
    }
    assert answer["body"] == answered.data.decode("utf-8")
    assert isinstance(answer["duration_ms"], float) and answer["duration_ms"] >= 0
    assert answer["fallback_from"] is None
    assert answer["fallback_reason"] is None

    [event] = record["events"]
    assert list(event) == EVENT_KEYS
    assert is_iso_utc(event["received_at"])
    assert event["webhook_id"] == "msg_shape1"
    assert event["event"] == "call.completed"
    assert event["created_at"] == "2026-05-29T12:10:00Z"
    assert event["body"] == COMPLETED
    assert record["verifications"] == []  # none until `toneflow calls verify --attach`
    assert record["pushes"] == []  # none until `toneflow push` or POST /push/…


def test_a_call_known_only_from_an_answer_has_nulls_not_missing_keys(client):
    client.get("/answer/ozml/dtmf_parties?CallId=bare1")
    record = client.get("/api/calls/bare1").json
    assert list(record) == RECORD_KEYS
    for key in ("status", "direction", "from", "to", "customer_id", "application_id"):
        assert record[key] is None
    assert record["completed_at"] is None
    assert record["events"] == []
    assert record["outcome"] == {"kind": "in_progress", "step": "keys", "reason": None}


def test_answers_are_listed_in_serving_order(client):
    for step in ("greet", "menu", "route"):
        client.get(f"/answer/minivoice/menu/{step}?call_id=order1&digits=2")
    answers = client.get("/api/calls/order1").json["answers"]
    assert [a["step"] for a in answers] == ["greet", "menu", "support"]
    assert [a["at"] for a in answers] == sorted(a["at"] for a in answers)


@pytest.mark.parametrize("call_id", ["nope", "x" * 300, "a%00b", "%F0%9F%93%9E"])
def test_an_unknown_call_is_404_with_the_error_shape(client, call_id):
    message = assert_error_shape(client.get(f"/api/calls/{call_id}"), 404, "not_found")
    assert message.startswith("no call with id ")


def test_an_unknown_call_message_names_the_id(client):
    response = client.get("/api/calls/nope")
    assert response.json == {"error": {"code": "not_found", "message": "no call with id 'nope'"}}


def test_the_api_with_the_store_down_is_503(client, broken_store):
    broken_store()
    response = client.get("/api/calls/anything")
    assert_error_shape(response, 503, "store_unavailable")
    assert response.headers["Retry-After"] == "5"


# --- health -----------------------------------------------------------------------


def test_healthz_is_ok_when_the_store_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.json == {"status": "ok", "store": "ok", "flows": 4}


def test_healthz_is_503_while_the_store_is_down_and_recovers(client, broken_store):
    assert client.get("/healthz").status_code == 200
    broken_store()
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json["store"] == "unavailable"
    assert down.json["status"] != "ok"
    broken_store.restore()
    again = client.get("/healthz")
    assert again.status_code == 200
    assert again.json == {"status": "ok", "store": "ok", "flows": 4}


def test_healthz_needs_the_schema_not_just_a_connection(app, client):
    with app.extensions["toneflow.call_log"].engine.begin() as conn:
        conn.execute(sa.text("drop table answers"))
        conn.execute(sa.text("drop table events"))
        conn.execute(sa.text("drop table verifications"))
        conn.execute(sa.text("drop table pushes"))
        conn.execute(sa.text("drop table calls"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["store"] == "unavailable"


def test_healthz_reports_how_many_flows_are_served(client_for):
    client = client_for({"one.yaml": "steps:\n  s:\n    - hangup: {}\n"})
    assert client.get("/healthz").json == {"status": "ok", "store": "ok", "flows": 1}


# --- request ids ------------------------------------------------------------------


def _requests(client):
    """One request of each kind of response the app gives, with ``headers``."""
    client.post("/events/minivoice", json=COMPLETED)  # so that /api/calls/shape1 exists
    return {
        "answer": lambda h: client.get("/answer/minivoice/menu", headers=h),
        "ozml": lambda h: client.get("/answer/ozml/menu", headers=h),
        "event": lambda h: client.post("/events/minivoice", json=COMPLETED, headers=h),
        "api": lambda h: client.get("/api/calls/shape1", headers=h),
        "health": lambda h: client.get("/healthz", headers=h),
        "404": lambda h: client.get("/nowhere", headers=h),
        "405": lambda h: client.delete("/healthz", headers=h),
        "400": lambda h: client.post(
            "/events/minivoice", data="{", content_type="application/json", headers=h
        ),
        "415": lambda h: client.post("/events/minivoice", data="x", headers=h),
        "413": lambda h: client.post(
            "/events/minivoice",
            data="x" * 2_000_000,
            content_type="application/json",
            headers=h,
        ),
        "413-chunked": lambda h: client.post(
            "/events/minivoice",
            input_stream=io.BytesIO(b"x" * 2_000_000),
            content_type="application/json",
            headers={**h, "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        ),
    }


EXPECTED_STATUS = {
    "answer": 200,
    "ozml": 200,
    "event": 200,
    "api": 200,
    "health": 200,
    "404": 404,
    "405": 405,
    "400": 400,
    "415": 415,
    "413": 413,
    "413-chunked": 413,
}


@pytest.mark.parametrize("kind", list(EXPECTED_STATUS))
def test_every_response_echoes_a_safe_request_id(client, kind):
    response = _requests(client)[kind]({"X-Request-ID": "req-42.A_b"})
    assert response.status_code == EXPECTED_STATUS[kind]
    assert response.headers["X-Request-ID"] == "req-42.A_b"


@pytest.mark.parametrize("kind", ["answer", "404", "413-chunked"])
def test_every_response_gets_a_request_id_when_none_is_given(client, kind):
    first = _requests(client)[kind]({})
    second = _requests(client)[kind]({})
    assert GENERATED_ID.match(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "given",
    ["has space", "x" * 65, "a/b", "<script>", "id;drop", "é", ""],
)
@pytest.mark.parametrize("kind", ["answer", "413-chunked"])
def test_an_unsafe_request_id_is_replaced(client, given, kind):
    response = _requests(client)[kind]({"X-Request-ID": given})
    sent = response.headers["X-Request-ID"]
    assert sent != given
    assert GENERATED_ID.match(sent)


def test_a_64_character_request_id_is_still_echoed(client):
    given = "a" * 64
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given


def test_a_chunked_413_is_not_labelled_with_the_previous_request(client):
    """The worker's log context from the last request must not leak into the next one."""
    client.get("/answer/minivoice/menu?call_id=before1", headers={"X-Request-ID": "first"})
    assert structlog.contextvars.get_contextvars()["call_id"] == "before1"
    response = _requests(client)["413-chunked"]({"X-Request-ID": "second"})
    assert response.status_code == 413
    assert structlog.contextvars.get_contextvars() == {"request_id": "second"}


# --- HTTP errors in the contract's shape ------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/events/minivoice", "POST"),
        ("put", "/events/minivoice", "POST"),
        ("post", "/healthz", "GET"),
        ("delete", "/api/calls/x", "GET"),
        ("put", "/answer/minivoice/menu", "POST"),
        ("patch", "/answer/ozml/menu/menu", "GET"),
    ],
)
def test_a_wrong_method_is_405_with_the_error_shape_and_allow(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert_error_shape(response, 405, "invalid_request")
    assert allowed in response.headers["Allow"]


def test_an_unknown_path_is_404_with_the_error_shape(client):
    assert_error_shape(client.get("/nothing/here"), 404, "not_found")


def test_a_declared_body_over_the_limit_is_413_with_the_error_shape(client_for):
    client = client_for({"one.yaml": "steps:\n  s:\n    - hangup: {}\n"}, MAX_BODY_BYTES=100)
    response = client.post(
        "/events/minivoice", data=json.dumps(COMPLETED) + " " * 100, content_type="application/json"
    )
    assert_error_shape(response, 413, "payload_too_large")


def test_a_chunked_body_within_the_limit_is_read_whole(client_for):
    client = client_for({"one.yaml": "steps:\n  s:\n    - hangup: {}\n"}, MAX_BODY_BYTES=1000)
    body = json.dumps(COMPLETED).encode()
    response = client.post(
        "/events/minivoice",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200
    assert client.get("/api/calls/shape1").json["events"][0]["body"] == COMPLETED


def test_a_chunked_body_over_the_limit_is_413_with_the_error_shape(client_for):
    client = client_for({"one.yaml": "steps:\n  s:\n    - hangup: {}\n"}, MAX_BODY_BYTES=1000)
    response = client.post(
        "/events/minivoice",
        input_stream=io.BytesIO(b" " * 1001),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    message = assert_error_shape(response, 413, "payload_too_large")
    assert "1000" in message


def test_healthz_tells_a_store_not_migrated_from_one_that_is_down(app, client, broken_store):
    with app.extensions["toneflow.call_log"].engine.begin() as conn:
        conn.execute(sa.text("delete from alembic_version"))
    behind = client.get("/healthz")
    assert behind.status_code == 503
    assert behind.json == {"status": "degraded", "store": "not_migrated", "flows": 4}
    broken_store()
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json == {"status": "degraded", "store": "unavailable", "flows": 4}
