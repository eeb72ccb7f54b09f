"""``POST /events/minivoice`` through the real app: validation, storage, dedupe, outcomes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_support import use_store
from support import SEED_WEBHOOK


def webhook(call_id: str = "call_123", **changes) -> dict:
    """The seed webhook for ``call_id``, with top-level fields replaced by ``changes``."""
    body = copy.deepcopy(SEED_WEBHOOK)
    body["call"]["id"] = call_id
    body.update(changes)
    return body


def post_event(client, body, headers=None):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        "/events/minivoice", data=data, content_type="application/json", headers=headers or {}
    )


def count_events(app) -> int:
    with app.extensions["toneflow.call_log"].engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from events")).scalar()


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status
    assert response.content_type == "application/json"
    assert set(response.json) == {"error"}
    assert set(response.json["error"]) == {"code", "message"}
    assert response.json["error"]["code"] == code
    return response.json["error"]["message"]


# --- accepted as sent -------------------------------------------------------------


def test_seed_webhook_is_accepted_and_shows_on_the_call(client):
    response = post_event(client, SEED_WEBHOOK)
    assert response.status_code == 200
    assert response.json == {"status": "stored"}

    record = client.get("/api/calls/call_123").json
    assert record["call_id"] == "call_123"
    assert record["status"] == "completed"
    assert record["completed_at"] == "2026-05-29T12:10:00Z"
    assert record["direction"] == "inbound"
    assert record["from"] == "+15551230001"
    assert record["to"] == "+15551230002"
    assert record["customer_id"] == "cust_123"
    assert record["application_id"] == "app_123"
    [event] = record["events"]
    assert event["event"] == "call.completed"
    assert event["created_at"] == "2026-05-29T12:10:00Z"
    assert event["webhook_id"] is None
    assert event["body"] == SEED_WEBHOOK


def test_unknown_fields_are_kept_in_the_stored_body(client):
    body = webhook("extra1")
    body["platform_version"] = "2026-05"
    body["billing"] = {"seconds": 42, "tags": ["a", "b"]}
    body["call"]["sip_headers"] = {"X-Trace": "abc"}
    body["call"]["queue_ms"] = 1500
    response = post_event(client, body)
    assert response.status_code == 200
    stored = client.get("/api/calls/extra1").json["events"][0]["body"]
    assert stored == body
    assert stored["call"]["sip_headers"] == {"X-Trace": "abc"}
    assert stored["billing"] == {"seconds": 42, "tags": ["a", "b"]}


def test_only_the_required_fields_are_enough(client):
    body = {"event": "call.ringing", "created_at": "2026-05-29T12:00:00Z", "call": {"id": "min1"}}
    assert post_event(client, body).status_code == 200
    record = client.get("/api/calls/min1").json
    assert record["events"][0]["body"] == body
    assert record["status"] is None  # no call.status and not call.completed
    assert record["completed_at"] is None


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/webhook+json"]
)
def test_json_content_type_variants_are_accepted(client, content_type):
    response = client.post(
        "/events/minivoice", data=json.dumps(webhook("ct1")), content_type=content_type
    )
    assert response.status_code == 200


def test_a_naive_created_at_is_taken_as_utc(client):
    post_event(client, webhook("naive1", created_at="2026-05-29T12:10:00"))
    assert client.get("/api/calls/naive1").json["completed_at"] == "2026-05-29T12:10:00Z"


def test_created_at_with_an_offset_is_stored_as_the_same_instant_in_utc(client):
    post_event(client, webhook("offset1", created_at="2026-05-29T14:10:00+02:00"))
    record = client.get("/api/calls/offset1").json
    assert record["completed_at"] == "2026-05-29T12:10:00Z"
    assert record["events"][0]["created_at"] == "2026-05-29T12:10:00Z"


# --- refused, saying why ----------------------------------------------------------


@pytest.mark.parametrize(
    ("remove", "field"),
    [
        (("event",), "event"),
        (("created_at",), "created_at"),
        (("call", "id"), "call.id"),
        (("call",), "call"),
    ],
)
def test_a_missing_required_field_is_a_400_naming_it(app, client, remove, field):
    body = webhook("missing1")
    target = body
    for key in remove[:-1]:
        target = target[key]
    del target[remove[-1]]
    message = assert_error(post_event(client, body), 400, "invalid_request")
    assert message == f"{field}: Missing data for required field."
    assert count_events(app) == 0


def test_every_problem_is_named_at_once(client):
    message = assert_error(post_event(client, {"data": {}}), 400, "invalid_request")
    for field in ("event", "created_at", "call"):
        assert f"{field}: Missing data for required field." in message


@pytest.mark.parametrize("direction", ["sideways", "INBOUND", "", 7])
def test_a_bad_call_direction_is_a_400(client, direction):
    body = webhook("dir1")
    body["call"]["direction"] = direction
    message = assert_error(post_event(client, body), 400, "invalid_request")
    assert message.startswith("call.direction: ")


def test_outbound_direction_is_accepted(client):
    body = webhook("dir2")
    body["call"]["direction"] = "outbound"
    assert post_event(client, body).status_code == 200
    assert client.get("/api/calls/dir2").json["direction"] == "outbound"


@pytest.mark.parametrize(
    "created_at",
    [
        "yesterday",
        "29/05/2026 12:10",
        "2026-05-29T25:10:00Z",
        "",
        1780056600,
        None,
        # Parses, but has no UTC equivalent: it must not become a crash further on.
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_a_created_at_that_is_not_an_iso_instant_is_a_400(client, created_at):
    message = assert_error(
        post_event(client, webhook("when1", created_at=created_at)), 400, "invalid_request"
    )
    assert message.startswith("created_at: ")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("call", "id"), ""),
        (("call", "id"), "x" * 129),
        (("call", "id"), None),
        (("call", "status"), 5),
        (("call", "from"), ["+1555"]),
        (("event",), ""),
        (("event",), {"name": "x"}),
        (("variables",), []),
        (("data",), "text"),
        (("call",), "call_123"),
    ],
)
def test_a_field_of_the_wrong_kind_is_a_400_naming_it(client, path, value):
    body = webhook("kind1")
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    message = assert_error(post_event(client, body), 400, "invalid_request")
    assert message.startswith(".".join(path))


@pytest.mark.parametrize(("where", "field"), [("id", "call.id"), ("from", "call.from")])
def test_nul_in_a_stored_text_field_is_a_400_not_a_store_failure(client, where, field):
    """PostgreSQL text cannot hold NUL: it must be refused as the client's mistake."""
    body = webhook("nul1")
    body["call"][where] = "a\x00b"
    message = assert_error(post_event(client, body), 400, "invalid_request")
    assert message.startswith(f"{field}: ")


def test_nul_inside_free_form_data_is_stored_as_sent(client):
    body = webhook("nul2", data={"note": "a\x00b"})
    assert post_event(client, body).status_code == 200
    assert client.get("/api/calls/nul2").json["events"][0]["body"] == body


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", json.dumps(SEED_WEBHOOK)),
        ("application/x-www-form-urlencoded", "event=call.completed"),
        ("application/xml", "<event/>"),
        (None, json.dumps(SEED_WEBHOOK)),
    ],
)
def test_a_body_that_is_not_json_is_415(client, content_type, data):
    response = client.post("/events/minivoice", data=data, content_type=content_type)
    message = assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "malformed JSON"),
        ("", "malformed JSON"),
        ('{"event": "x",}', "malformed JSON"),
        ("[1, 2]", "must be an object"),
        ('"call.completed"', "must be an object"),
        (b'{"event": "\xc3\x28"}', "not UTF-8"),
        ("[" * 100_000, "malformed JSON"),
        # Python's json module accepts these; JSON does not, and PostgreSQL refuses them.
        ('{"event": "x", "data": {"v": NaN}}', "NaN"),
        ('{"event": "x", "data": {"v": -Infinity}}', "Infinity"),
        ('{"event": "x", "data": {"v": 1e400}}', "out of range"),
        ('{"event": "x", "data": {"v": ' + "9" * 5000 + "}}", "too many digits"),
        ('{"event": "x", "call": {"id": "a\\ud800"}}', "surrogate"),
        ('{"event": "x", "data": {"v": "\\udfff"}}', "surrogate"),
        ('{"event": "x", "data": ' + "[" * 500 + "]" * 500 + "}", "levels deep"),
    ],
)
def test_malformed_json_is_a_400_naming_the_problem(app, client, data, message):
    response = client.post("/events/minivoice", data=data, content_type="application/json")
    assert message in assert_error(response, 400, "invalid_request")
    assert count_events(app) == 0


def test_json_nested_a_little_is_fine(client):
    body = webhook("deep1", data={"v": json.loads("[" * 50 + "]" * 50)})
    assert post_event(client, body).status_code == 200
    assert client.get("/api/calls/deep1").json["events"][0]["body"] == body


def test_a_valid_surrogate_pair_is_text(client):
    body = webhook("emoji1", data={"v": "\U0001f4de"})
    response = post_event(client, json.dumps(body))  # ensure_ascii: sent as \\ud83d\\udcde
    assert response.status_code == 200
    assert client.get("/api/calls/emoji1").json["events"][0]["body"]["data"] == {"v": "📞"}


# --- stored once ------------------------------------------------------------------


def test_redelivery_with_the_same_webhook_id_is_stored_once(app, client):
    headers = {"webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}
    first = post_event(client, webhook("dup1"), headers)
    again = post_event(client, webhook("dup1"), headers)
    assert (first.status_code, first.json) == (200, {"status": "stored"})
    assert (again.status_code, again.json) == (200, {"status": "duplicate"})
    [event] = client.get("/api/calls/dup1").json["events"]
    assert event["webhook_id"] == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert count_events(app) == 1


def test_the_webhook_id_alone_decides_a_redelivery(app, client):
    """Same webhook-id, another created_at (a platform re-stamping a retry): still once."""
    headers = {"webhook-id": "msg_same"}
    post_event(client, webhook("dup2"), headers)
    again = post_event(client, webhook("dup2", created_at="2026-05-29T12:11:00Z"), headers)
    assert again.json == {"status": "duplicate"}
    assert count_events(app) == 1


def test_different_webhook_ids_are_different_deliveries(app, client):
    post_event(client, webhook("dup3"), {"webhook-id": "msg_a"})
    second = post_event(client, webhook("dup3"), {"webhook-id": "msg_b"})
    assert second.json == {"status": "stored"}
    assert count_events(app) == 2


def test_a_very_long_webhook_id_still_dedupes(app, client):
    headers = {"webhook-id": "m" * 1000}
    assert post_event(client, webhook("dup4"), headers).json == {"status": "stored"}
    assert post_event(client, webhook("dup4"), headers).json == {"status": "duplicate"}
    assert client.get("/api/calls/dup4").json["events"][0]["webhook_id"] == "m" * 1000


def test_redelivery_without_webhook_id_is_stored_once(app, client):
    first = post_event(client, webhook("dup5"))
    again = post_event(client, webhook("dup5"))
    same_instant = post_event(client, webhook("dup5", created_at="2026-05-29T08:10:00-04:00"))
    assert first.json == {"status": "stored"}
    assert again.status_code == 200
    assert again.json == {"status": "duplicate"}
    assert same_instant.json == {"status": "duplicate"}
    assert count_events(app) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"created_at": "2026-05-29T12:10:01Z"},
        {"event": "call.answered"},
    ],
)
def test_another_event_or_time_without_webhook_id_is_a_new_event(app, client, change):
    post_event(client, webhook("dup6"))
    assert post_event(client, webhook("dup6", **change)).json == {"status": "stored"}
    assert count_events(app) == 2


def test_the_same_event_for_another_call_is_a_new_event(app, client):
    post_event(client, webhook("dup7"))
    assert post_event(client, webhook("dup8")).json == {"status": "stored"}
    assert count_events(app) == 2


# --- what events do to the call ---------------------------------------------------


def test_call_completed_after_answers_fixes_status_completion_and_last_step(client):
    client.get("/answer/minivoice/menu?call_id=flow1")  # greet
    client.get("/answer/minivoice/menu/menu?call_id=flow1")  # menu: collects digits
    before = client.get("/api/calls/flow1").json
    assert before["outcome"] == {"kind": "in_progress", "step": "menu", "reason": None}
    assert before["status"] is None

    assert post_event(client, webhook("flow1")).status_code == 200
    record = client.get("/api/calls/flow1").json
    assert record["status"] == "completed"
    assert record["completed_at"] == "2026-05-29T12:10:00Z"
    assert record["last_step"] == "menu"
    assert record["flow"] == "menu"
    assert record["outcome"] == {"kind": "abandoned", "step": "menu", "reason": None}

    # An answer served after completion is logged, but the last step stays fixed.
    client.get("/answer/minivoice/menu/route?call_id=flow1&digits=1")
    late = client.get("/api/calls/flow1").json
    assert late["last_step"] == "menu"
    assert [a["step"] for a in late["answers"]] == ["greet", "menu", "sales"]


def test_call_completed_on_a_terminal_step_is_finished(client):
    client.get("/answer/ozml/appointment?call_id=fin1&confirmation_code=12")
    client.get("/answer/ozml/appointment/done?call_id=fin1")
    post_event(client, webhook("fin1"))
    record = client.get("/api/calls/fin1").json
    assert record["last_step"] == "done"
    assert record["dialect"] == "ozml"
    assert record["outcome"] == {"kind": "finished", "step": "done", "reason": None}


def test_call_completed_without_a_status_field_still_completes(client):
    body = webhook("nostatus1")
    del body["call"]["status"]
    post_event(client, body)
    assert client.get("/api/calls/nostatus1").json["status"] == "completed"


def test_a_late_older_event_does_not_rewrite_the_status(client):
    completed = webhook("late1")
    ringing = webhook("late1", event="call.ringing", created_at="2026-05-29T12:00:00Z")
    ringing["call"]["status"] = "ringing"
    assert post_event(client, completed).json == {"status": "stored"}
    assert post_event(client, ringing).json == {"status": "stored"}  # stored, but older
    record = client.get("/api/calls/late1").json
    assert record["status"] == "completed"
    assert record["completed_at"] == "2026-05-29T12:10:00Z"
    # The timeline still has both, in created_at order.
    assert [e["event"] for e in record["events"]] == ["call.ringing", "call.completed"]


def test_a_newer_event_does_change_the_status(client):
    ringing = webhook("late2", event="call.ringing", created_at="2026-05-29T12:00:00Z")
    ringing["call"]["status"] = "ringing"
    post_event(client, ringing)
    assert client.get("/api/calls/late2").json["status"] == "ringing"
    post_event(client, webhook("late2"))
    assert client.get("/api/calls/late2").json["status"] == "completed"


def test_events_for_a_call_never_answered_are_never_answered(client):
    ringing = webhook("never1", event="call.ringing", created_at="2026-05-29T12:00:00Z")
    post_event(client, ringing)
    post_event(client, webhook("never1"))
    record = client.get("/api/calls/never1").json
    assert record["outcome"] == {"kind": "never_answered", "step": None, "reason": None}
    assert record["last_step"] is None
    assert record["flow"] is None
    assert record["answers"] == []
    assert len(record["events"]) == 2


def test_event_fields_fill_what_the_answer_request_did_not_say(client):
    client.get("/answer/minivoice/menu?call_id=fill1&from=%2B15550009")
    post_event(client, webhook("fill1"))
    record = client.get("/api/calls/fill1").json
    assert record["from"] == "+15550009"  # the answer said it first
    assert record["to"] == "+15551230002"  # only the event said it
    assert record["customer_id"] == "cust_123"


# --- the store --------------------------------------------------------------------


def test_store_down_is_503_with_retry_after_and_nothing_is_acknowledged(app, client):
    store = use_store(app, sa.create_engine("sqlite:////nonexistent/dir/x.db"))
    try:
        response = post_event(client, webhook("down1"))
    finally:
        use_store(app, store).dispose()
    message = assert_error(response, 503, "store_unavailable")
    assert "retry" in message
    assert response.headers["Retry-After"] == "5"
    # The platform's retry, once the store is back, is stored: the first try never was.
    assert post_event(client, webhook("down1")).json == {"status": "stored"}
    assert count_events(app) == 1


def test_store_without_the_schema_is_503(app, client):
    store = app.extensions["toneflow.call_log"].engine
    with store.begin() as conn:
        conn.execute(sa.text("drop table events"))
    response = post_event(client, webhook("noschema1"))
    assert_error(response, 503, "store_unavailable")


# --- no client mistake is a 500 ---------------------------------------------------

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_offsets = st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)).map(
    lambda delta: timezone(timedelta(minutes=delta // timedelta(minutes=1)))
)
_instants = st.datetimes(timezones=st.none() | st.just(UTC) | _offsets).map(datetime.isoformat)
_objects = st.dictionaries(st.text(max_size=8), _json, max_size=3)
_texts = st.text(min_size=1, max_size=12)


def _maybe_broken(valid):
    """A valid value nine times in ten, else any JSON at all."""
    return st.integers(0, 9).flatmap(lambda n: valid if n else _json)


# Events close to valid, so that both answers (200 and 400) are explored.
_calls = st.fixed_dictionaries(
    {"id": _maybe_broken(st.text(min_size=1, max_size=128))},
    optional={
        "direction": _maybe_broken(st.sampled_from(["inbound", "outbound"])),
        "status": _maybe_broken(_texts),
        "from": _maybe_broken(_texts),
        "to": _maybe_broken(_texts),
        "customer_id": _maybe_broken(_texts),
        "application_id": _maybe_broken(_texts),
        "extra": _json,
    },
)
_events = st.fixed_dictionaries(
    {
        "event": _maybe_broken(st.sampled_from(["call.completed", "call.ringing"]) | _texts),
        "created_at": _maybe_broken(_instants),
        "call": _maybe_broken(_calls),
    },
    optional={
        "variables": _maybe_broken(_objects),
        "data": _maybe_broken(_objects),
        "extra": _json,
    },
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(_events, _events, _events, _json),
    webhook_id=st.none()
    | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40),
)
def test_no_client_mistake_is_a_500(client, body, webhook_id):
    headers = {"webhook-id": webhook_id} if webhook_id is not None else {}
    response = post_event(client, body, headers)
    assert response.status_code in (200, 400), response.data
    if response.status_code == 400:
        assert response.json["error"]["code"] == "invalid_request"
    else:
        assert response.json["status"] in ("stored", "duplicate")


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.binary(max_size=64))
def test_arbitrary_bytes_are_never_a_500(client, data):
    response = client.post("/events/minivoice", data=data, content_type="application/json")
    assert response.status_code in (200, 400)
