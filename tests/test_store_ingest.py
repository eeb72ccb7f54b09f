"""toneflow.store.ingest: writing answers and events, the contract's rules for each.

Every test that touches a database runs on SQLite and, when TEST_DATABASE_URL is set,
on PostgreSQL (the ``database_url`` fixture), after migrating it with Alembic exactly as
the app does. The call's record is read back through the store's reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from store_support import (
    COMPLETED_AT,
    RECEIVED,
    SEED_BODY,
    T0,
    count,
    get_call,
    post,
    record_answer,
    record_event,
    run_together,
    served,
    webhook,
)

from toneflow.outcome import derive_outcome
from toneflow.store import dedupe_key
from toneflow.store.tables import answers, events

# --- events ----------------------------------------------------------------------


def test_the_minivoice_seed_webhook_makes_a_completed_never_answered_call(engine):
    validated = {**SEED_BODY, "created_at": COMPLETED_AT, "call": dict(SEED_BODY["call"])}
    stored = record_event(
        engine, event=validated, body=SEED_BODY, webhook_id="msg_1", received_at=RECEIVED
    )
    assert stored is True
    assert get_call(engine, "call_123") == {
        "call_id": "call_123",
        "flow": None,
        "dialect": None,
        "status": "completed",
        "direction": "inbound",
        "from": "+15551230001",
        "to": "+15551230002",
        "customer_id": "cust_123",
        "application_id": "app_123",
        "first_seen": "2026-05-29T12:10:01Z",
        "last_seen": "2026-05-29T12:10:01Z",
        "completed_at": "2026-05-29T12:10:00Z",
        "last_step": None,
        "flow_version": None,
        "outcome": {"kind": "never_answered", "step": None, "reason": None},
        # The seed's event carries no duration or hangup cause.
        "duration_s": None,
        "hangup_cause": None,
        "answers": [],
        "events": [
            {
                "received_at": "2026-05-29T12:10:01Z",
                "webhook_id": "msg_1",
                "event": "call.completed",
                "created_at": "2026-05-29T12:10:00Z",
                "future_dated": False,
                "body": SEED_BODY,
            }
        ],
        "verifications": [],
        "pushes": [],
    }


def test_extra_fields_in_the_body_are_stored_as_received(engine):
    validated, body = webhook(status="completed")
    body["platform_extra"] = {"nested": [1, 2, {"k": "v"}]}
    body["call"]["sip_headers"] = {"X-Foo": "bar"}
    record_event(engine, event=validated, body=body, webhook_id=None, received_at=RECEIVED)
    assert get_call(engine, "call_123")["events"][0]["body"] == body


def test_redelivery_with_the_same_webhook_id_is_stored_once_and_changes_nothing(engine):
    assert post(engine, "call.answered", webhook_id="msg_1", status="in-progress") is True
    # Same id, even with a different payload: it is the same delivery.
    later = COMPLETED_AT + timedelta(minutes=5)
    assert post(engine, webhook_id="msg_1", created_at=later, status="completed") is False
    record = get_call(engine, "call_123")
    assert len(record["events"]) == 1
    assert record["status"] == "in-progress"
    assert record["completed_at"] is None
    assert record["last_seen"] == "2026-05-29T12:10:01Z"


def test_redelivery_without_webhook_id_is_matched_on_event_call_and_created_at(engine):
    assert post(engine, received_at=RECEIVED) is True
    # The same instant written with another offset is the same event.
    same_instant = COMPLETED_AT.astimezone(timezone(timedelta(hours=2)))
    assert post(engine, created_at=same_instant, received_at=RECEIVED + timedelta(1)) is False
    # A different event name, call or time is a new event.
    assert post(engine, "call.hangup") is True
    assert post(engine, call_id="call_456") is True
    assert post(engine, created_at=COMPLETED_AT + timedelta(seconds=1)) is True
    assert count(engine, events) == 4
    assert get_call(engine, "call_123")["last_seen"] == "2026-05-29T12:10:01Z"


def test_dedupe_keys():
    key = dedupe_key(event="e", call_id="c", created_at=COMPLETED_AT, webhook_id="msg_1")
    assert key == "webhook-id:msg_1"
    by_content = dedupe_key(event="e", call_id="c", created_at=COMPLETED_AT, webhook_id=None)
    assert by_content.startswith("event:")
    assert by_content == dedupe_key(
        event="e",
        call_id="c",
        created_at=COMPLETED_AT.astimezone(timezone(timedelta(hours=-5))),
        webhook_id="",
    )
    long_key = dedupe_key(event="e", call_id="c", created_at=COMPLETED_AT, webhook_id="x" * 500)
    assert long_key.startswith("webhook-id-sha256:")
    assert len(long_key) <= 255


def test_a_late_older_event_never_rewrites_a_newer_status(engine):
    post(engine, created_at=COMPLETED_AT, status="completed")
    # Redelivered late: created before the completion, arriving after it.
    post(engine, "call.answered", created_at=COMPLETED_AT - timedelta(minutes=9), status="answered")
    record = get_call(engine, "call_123")
    assert record["status"] == "completed"
    assert record["completed_at"] == "2026-05-29T12:10:00Z"
    # Timeline is in created_at order whatever the arrival order.
    assert [e["event"] for e in record["events"]] == ["call.answered", "call.completed"]


def test_a_newer_or_equally_new_event_does_change_the_status(engine):
    post(engine, "call.ringing", created_at=T0, status="ringing")
    post(engine, "call.answered", created_at=T0 + timedelta(seconds=5), status="answered")
    assert get_call(engine, "call_123")["status"] == "answered"
    post(engine, "call.bridged", created_at=T0 + timedelta(seconds=5), status="bridged")
    assert get_call(engine, "call_123")["status"] == "bridged"
    # An event with no status says nothing about it.
    post(engine, "call.dtmf", created_at=T0 + timedelta(seconds=9))
    assert get_call(engine, "call_123")["status"] == "bridged"


def test_call_completed_without_a_status_sets_completed(engine):
    post(engine)
    record = get_call(engine, "call_123")
    assert record["status"] == "completed"
    assert record["completed_at"] == "2026-05-29T12:10:00Z"


def test_completion_time_is_set_once(engine):
    post(engine, created_at=COMPLETED_AT, status="completed")
    post(engine, created_at=COMPLETED_AT + timedelta(minutes=1), status="failed")
    record = get_call(engine, "call_123")
    assert record["status"] == "failed"
    assert record["completed_at"] == "2026-05-29T12:10:00Z"


def test_events_fill_call_fields_the_answers_left_empty(engine):
    record_answer(engine, served("menu", from_number=None, to_number=""))
    post(engine, status="completed", **{"from": "+1555000", "to": "+1555111"})
    post(
        engine,
        "call.note",
        created_at=COMPLETED_AT + timedelta(seconds=1),
        direction="outbound",
        **{"from": "+1999"},
    )
    record = get_call(engine, "call_123")
    assert record["from"] == "+1555000"  # filled once, then kept
    assert record["to"] == "+1555111"
    assert record["direction"] == "inbound"  # the answer had already said


def test_naive_times_and_bad_call_ids_are_refused(engine):
    with pytest.raises(ValueError, match="aware"):
        record_answer(engine, served("menu", at=datetime(2026, 5, 29, 12, 0)))
    with pytest.raises(ValueError, match="aware"):
        post(engine, received_at=datetime(2026, 5, 29, 12, 0))
    with pytest.raises(ValueError, match="128"):
        post(engine, call_id="c" * 129)
    with pytest.raises(ValueError, match="call id"):
        record_answer(engine, served("menu", call_id=""))
    assert count(engine, events) == 0


# --- answers and outcomes --------------------------------------------------------


#: What ``served()`` records as an answer's request: the normalised request, as served.
REQUEST = {
    "call": {
        "id": "call_123",
        "from": "+15551230001",
        "to": "+15551230002",
        "direction": "inbound",
    },
    "input": {"digits": None},
    "variables": {"lang": "en"},
}


def test_answers_are_recorded_in_serving_order_with_the_exact_body(engine):
    record_answer(engine, served("menu", at=T0))
    record_answer(engine, served("done", terminal=True, at=T0 + timedelta(seconds=7)))
    record = get_call(engine, "call_123")
    assert record["flow"] == "h_menu"
    assert record["dialect"] == "minivoice"
    assert record["first_seen"] == "2026-05-29T12:00:00Z"
    assert record["last_seen"] == "2026-05-29T12:00:07Z"
    assert record["last_step"] == "done"
    assert record["answers"] == [
        {
            "at": "2026-05-29T12:00:00Z",
            "dialect": "minivoice",
            "flow": "h_menu",
            "flow_version": "sha256:abc",
            "step": "menu",
            "request": REQUEST,
            "body": '{"actions": []}',
            "duration_ms": 1.25,
            "fallback_from": None,
            "fallback_reason": None,
            "status": 200,
            "error_reason": None,
            "decision": None,
        },
        {
            "at": "2026-05-29T12:00:07Z",
            "dialect": "minivoice",
            "flow": "h_menu",
            "flow_version": "sha256:abc",
            "step": "done",
            "request": REQUEST,
            "body": '{"actions": [{"hangup": {}}]}',
            "duration_ms": 1.25,
            "fallback_from": None,
            "fallback_reason": None,
            "status": 200,
            "error_reason": None,
            "decision": None,
        },
    ]


def test_outcome_in_progress(engine):
    record_answer(engine, served("menu"))
    post(engine, "call.answered", status="answered", created_at=T0)
    record = get_call(engine, "call_123")
    assert record["outcome"] == {"kind": "in_progress", "step": "menu", "reason": None}
    assert record["completed_at"] is None


def test_outcome_finished(engine):
    record_answer(engine, served("menu"))
    record_answer(engine, served("done", terminal=True, at=T0 + timedelta(seconds=3)))
    post(engine)
    record = get_call(engine, "call_123")
    assert record["outcome"] == {"kind": "finished", "step": "done", "reason": None}


def test_outcome_abandoned(engine):
    record_answer(engine, served("connect"))
    record_answer(engine, served("menu", at=T0 + timedelta(seconds=3)))
    post(engine, status="completed")
    record = get_call(engine, "call_123")
    assert record["last_step"] == "menu"
    assert record["outcome"] == {"kind": "abandoned", "step": "menu", "reason": None}


def test_outcome_fell_back_names_the_first_step_that_could_not_render(engine):
    record_answer(engine, served("menu"))
    record_answer(
        engine,
        served(
            "sorry",
            terminal=True,
            at=T0 + timedelta(seconds=1),
            fallback_from="connect",
            fallback_reason="undefined variable: confirmation_code",
        ),
    )
    record_answer(
        engine,
        served(
            "sorry",
            terminal=True,
            at=T0 + timedelta(seconds=2),
            fallback_from="route",
            fallback_reason="no case matched",
        ),
    )
    expected = {
        "kind": "fell_back",
        "step": "connect",
        "reason": "undefined variable: confirmation_code",
    }
    assert get_call(engine, "call_123")["outcome"] == expected
    post(engine)  # completion does not hide the fallback
    record = get_call(engine, "call_123")
    assert record["outcome"] == expected
    assert record["last_step"] == "sorry"
    assert [a["fallback_from"] for a in record["answers"]] == [None, "connect", "route"]


def test_outcome_never_answered_with_only_events(engine):
    post(engine, "call.ringing", created_at=T0, status="ringing")
    record = get_call(engine, "call_123")
    assert record["outcome"] == {"kind": "never_answered", "step": None, "reason": None}
    assert record["first_seen"] == record["last_seen"] == "2026-05-29T12:10:01Z"
    post(engine)
    record = get_call(engine, "call_123")
    assert record["outcome"] == {"kind": "never_answered", "step": None, "reason": None}


def test_answers_after_completion_are_logged_but_do_not_move_last_step(engine):
    record_answer(engine, served("menu"))
    post(engine)
    record_answer(engine, served("done", terminal=True, at=COMPLETED_AT + timedelta(seconds=1)))
    record = get_call(engine, "call_123")
    assert [a["step"] for a in record["answers"]] == ["menu", "done"]
    assert record["last_step"] == "menu"
    assert record["outcome"] == {"kind": "abandoned", "step": "menu", "reason": None}
    assert record["last_seen"] == "2026-05-29T12:10:01Z"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"completed": False, "last_step": "menu"}, ("in_progress", "menu", None)),
        ({"completed": False, "last_step": None}, ("never_answered", None, None)),
        ({"completed": True, "last_step": None}, ("never_answered", None, None)),
        ({"completed": True, "last_step": "done", "terminal": True}, ("finished", "done", None)),
        ({"completed": True, "last_step": "menu"}, ("abandoned", "menu", None)),
        (
            {"completed": True, "last_step": "sorry", "terminal": True, "fallback": "x"},
            ("fell_back", "x", "why"),
        ),
        ({"completed": False, "last_step": "sorry", "fallback": "x"}, ("fell_back", "x", "why")),
    ],
)
def test_derive_outcome(state, expected):
    fallback = state.get("fallback")
    outcome = derive_outcome(
        completed=state["completed"],
        last_step=state["last_step"],
        last_step_terminal=state.get("terminal", False),
        fallback_step=fallback,
        fallback_reason="why" if fallback else None,
    )
    assert (outcome["kind"], outcome["step"], outcome["reason"]) == expected


# --- how each write commits (SQLite) ---------------------------------------------


@contextmanager
def sqlite_statements(engine) -> Iterator[list[tuple[int, str]]]:
    """Every SQL text SQLite runs on ``engine``'s connections, as (connection, text).

    SQLite's own trace, not SQLAlchemy's events: the call log's writes run on the pooled
    DB-API connection (toneflow.store.direct), and what counts is what SQLite executes.
    Connections made from here on are traced from their first statement (the level the
    engine sets when it connects included).
    """
    seen: list[tuple[int, str]] = []

    def trace(dbapi_connection, _record) -> None:
        key = id(dbapi_connection)
        dbapi_connection.set_trace_callback(lambda sql: seen.append((key, sql)))

    engine.dispose()
    sa.event.listen(engine, "connect", trace, insert=True)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "connect", trace)
        engine.dispose()


def test_sqlite_writes_begin_immediate_and_reads_do_not(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite transaction mode")
    with sqlite_statements(engine) as seen:
        record_answer(engine, served("menu"))
        record_answer(engine, served("done", at=T0 + timedelta(seconds=5)))
        post(engine, "call.ringing", webhook_id="msg_a")
        writes = [sql for _, sql in seen if not sql.startswith("PRAGMA")]
        # Each write: BEGIN IMMEDIATE (only a PRAGMA before it), then its statements. An
        # answer tries the steady update first: for a new call it changes nothing and the
        # upsert runs; for a stored one it is the call row's only statement.
        assert [sql.split()[0] for sql in writes] == [
            *("BEGIN", "UPDATE", "INSERT", "INSERT", "COMMIT"),  # the call's first answer
            *("BEGIN", "UPDATE", "INSERT", "COMMIT"),  # its second
            *("BEGIN", "INSERT", "INSERT", "COMMIT"),  # an event: the upsert and the row
        ]
        assert writes[0] == writes[5] == writes[9] == "BEGIN IMMEDIATE"
        seen.clear()
        get_call(engine, "call_123")
        assert next(sql for _, sql in seen if not sql.startswith("PRAGMA")) == "BEGIN"


def test_sqlite_commits_answers_crash_safe_and_events_power_safe(engine):
    """An answer's record needs to survive a killed worker (NORMAL); an acknowledged event
    power loss (FULL), also when the same pooled connection wrote an answer just before."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite durability levels")
    with sqlite_statements(engine) as seen:
        record_answer(engine, served("menu"))
        post(engine, "call.ringing", webhook_id="msg_a")
        record_answer(engine, served("done", terminal=True))
        with engine.begin() as conn:  # any other write: the default, FULL
            conn.exec_driver_sql("SELECT 1")
    levels: list[str] = []
    level_of: dict[int, str] = {}
    for connection, sql in seen:
        if sql.startswith("PRAGMA synchronous = "):
            level_of[connection] = sql.rsplit(" ", 1)[1]
        elif sql == "COMMIT":
            levels.append(level_of[connection])
    assert levels == ["NORMAL", "FULL", "NORMAL", "FULL"]


# --- concurrency -----------------------------------------------------------------


def test_concurrent_redeliveries_store_exactly_one_event(engine):
    validated, body = webhook(status="completed", direction="inbound")

    def deliver() -> bool:
        return record_event(
            engine, event=validated, body=body, webhook_id=None, received_at=RECEIVED
        )

    results = run_together(8, deliver)
    assert sorted(results) == [False] * 7 + [True]
    assert count(engine, events) == 1
    assert get_call(engine, "call_123")["status"] == "completed"


def test_concurrent_redeliveries_by_webhook_id_store_exactly_one_event(engine):
    def deliver() -> bool:
        return post(engine, webhook_id="msg_same")

    results = run_together(8, deliver)
    assert results.count(True) == 1
    assert count(engine, events) == 1


def test_concurrent_first_answers_to_one_call_all_get_logged(engine):
    results = run_together(8, lambda: record_answer(engine, served("menu")))
    assert results == [None] * 8
    assert count(engine, answers) == 8
    assert get_call(engine, "call_123")["last_step"] == "menu"


def test_pyformat_sql_becomes_numbered_placeholders():
    from toneflow.store.direct import numbered

    sql, order = numbered("SELECT %(a)s, %(b_1)s, %(a)s WHERE x LIKE '5%%' AND y = %(c)s")
    assert sql == "SELECT $1, $2, $1 WHERE x LIKE '5%' AND y = $3"
    assert order == ("a", "b_1", "c")


def test_postgresql_hot_writes_are_not_converted_again_on_every_execute(engine, monkeypatch):
    """psycopg caches its conversion of ``%(name)s`` SQL only up to 4,096 bytes, and the
    answer's upsert is longer: the writes send ``$n`` SQL on a raw cursor instead, so
    psycopg never splits a query of theirs again (it did once per answer)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg's query conversion is PostgreSQL's")
    from psycopg import _queries

    converted: list[bytes] = []
    for name in ("_query2pg", "_query2pg_nocache"):  # cached, and too long to cache
        original = getattr(_queries, name)
        monkeypatch.setattr(_queries, name, _recording(original, converted))
    for n in range(3):
        record_answer(engine, served("menu", at=T0 + timedelta(seconds=n)))
    event, body = webhook(call_id="call_123")
    record_event(engine, event=event, body=body, webhook_id="msg_1", received_at=RECEIVED)
    long_ones = [query for query in converted if len(query) > 200]
    assert long_ones == []
    assert get_call(engine, "call_123")["last_step"] == "menu"


def _recording(convert, seen: list):
    def recorded(query, encoding):
        seen.append(query)
        return convert(query, encoding)

    return recorded
