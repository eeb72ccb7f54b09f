"""Finding calls: filters, keyset pages, export, pruning, redaction, the stored outcome.

On SQLite and, with TEST_DATABASE_URL, PostgreSQL, migrated exactly as the app does.
"""

from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_support import (
    T0,
    count_calls,
    get_call,
    iter_records,
    list_calls,
    post,
    prune,
    record_answer,
    record_event,
    served,
)

from toneflow.answer import Decision
from toneflow.store import CallFilter, InvalidCursor, make_engine, migrate
from toneflow.store.tables import answers, calls, events


def stored_outcome(engine: sa.Engine, call_id: str) -> str:
    with engine.connect() as conn:
        query = sa.select(calls.c.outcome).where(calls.c.call_id == call_id)
        return conn.execute(query).scalar_one()


def failed(step: str, **kwargs) -> object:
    body = '{"error": {"code": "answer_url_error", "message": "x"}}'
    return served(step, error_reason="undefined variable: code", body=body, **kwargs)


def make_calls(engine: sa.Engine, n: int) -> list[str]:
    """n calls, one a minute from T0, alternating flows and outcomes; ids oldest first."""
    ids = []
    for i in range(n):
        call_id = f"c{i:03d}"
        flow = "menu" if i % 2 else "appointment"
        record_answer(
            engine,
            served(
                "done" if i % 3 == 0 else "menu",
                terminal=i % 3 == 0,
                at=T0 + timedelta(minutes=i),
                call_id=call_id,
                flow=flow,
                from_number=f"+1555000{i:04d}",
            ),
        )
        if i % 3 != 2:
            at = T0 + timedelta(minutes=i, seconds=30)
            post(engine, call_id=call_id, created_at=at, received_at=at)
        ids.append(call_id)
    return ids


# --- failed answers and the stored outcome -------------------------------------------


def test_a_500_with_no_fallback_is_on_the_timeline_and_the_outcome(engine):
    record_answer(engine, served("connect"))
    record_answer(engine, failed("menu", at=T0 + timedelta(seconds=2)))
    post(engine)
    record = get_call(engine, "call_123")
    assert record["outcome"] == {
        "kind": "failed",
        "step": "menu",
        "reason": "undefined variable: code",
    }
    assert record["last_step"] == "connect"  # nothing of 'menu' was served
    assert [(a["step"], a["status"], a["error_reason"]) for a in record["answers"]] == [
        ("connect", 200, None),
        ("menu", 500, "undefined variable: code"),
    ]
    assert stored_outcome(engine, "call_123") == "failed"


def test_a_call_whose_first_answer_failed_is_failed_not_never_answered(engine):
    record_answer(engine, failed("connect"))
    assert get_call(engine, "call_123")["outcome"]["kind"] == "failed"
    assert get_call(engine, "call_123")["last_step"] is None


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.sampled_from(["menu", "done"])),
        st.tuples(st.just("fallback"), st.just("sorry")),
        st.tuples(st.just("fail"), st.just("menu")),
        st.tuples(st.just("transfer"), st.just("sales")),
        st.tuples(st.just("event"), st.sampled_from(["call.completed", "call.ringing"])),
    ),
    max_size=6,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS, call_number=st.integers(0, 10**9))
def test_the_stored_outcome_always_agrees_with_the_record(engine, actions, call_number):
    """The SQL rule that fills calls.outcome and derive_outcome are one rule."""
    call_id = f"h{call_number}"
    for i, (kind, name) in enumerate(actions):
        at = T0 + timedelta(seconds=i)
        if kind == "answer":
            record_answer(engine, served(name, terminal=name == "done", at=at, call_id=call_id))
        elif kind == "fallback":
            answer = served(name, terminal=True, at=at, call_id=call_id, fallback_from="x")
            record_answer(engine, answer)
        elif kind == "fail":
            record_answer(engine, failed(name, at=at, call_id=call_id))
        elif kind == "transfer":
            decision = Decision(steps=(name,), transfer_to="+15551230010")
            answer = served(name, terminal=True, at=at, call_id=call_id, decision=decision)
            record_answer(engine, answer)
        else:
            post(engine, name, call_id=call_id, created_at=at, webhook_id=f"{call_id}-{i}")
    record = get_call(engine, call_id)
    if record is not None:
        assert stored_outcome(engine, call_id) == record["outcome"]["kind"]


STEADY_CALLS = itertools.count()
STEADY_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["answer", "answer", "fallback", "fail", "transfer", "event"]),
        st.sampled_from(["menu", "done"]),
        st.integers(-3, 3),  # seconds from the action before: an answer may come earlier
        st.sampled_from(["f1", "f2"]),
        st.sampled_from([None, "+15551230001", "+15551230009"]),
        st.sampled_from([None, "+15551230002"]),
    ),
    min_size=1,
    max_size=7,
)


@pytest.fixture
def twin_sqlite_stores(tmp_path):
    engines = []
    for name in ("steady", "upsert"):
        url = f"sqlite:///{tmp_path / name}.db"
        migrate.upgrade(url)
        engines.append(make_engine(url))
    yield engines
    for engine in engines:
        engine.dispose()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=STEADY_ACTIONS)
def test_the_steady_update_leaves_the_call_row_the_upsert_would(twin_sqlite_stores, actions):
    """On SQLite an answer to a stored call first tries the upsert's update without the
    columns it does not change (fewer index rewrites); the row must come out the same."""
    from toneflow.store import ingest, writes

    steady, upsert = twin_sqlite_stores
    call_id = f"s{next(STEADY_CALLS)}"  # one per example: the stores outlive examples

    def play(engine: sa.Engine) -> None:
        at = T0
        for i, (kind, step, seconds, flow, from_number, to_number) in enumerate(actions):
            at += timedelta(seconds=seconds)
            given = {"at": at, "call_id": call_id, "flow": flow}
            given |= {"from_number": from_number, "to_number": to_number}
            if kind == "answer":
                record_answer(engine, served(step, terminal=step == "done", **given))
            elif kind == "fallback":
                record_answer(engine, served(step, terminal=True, fallback_from="x", **given))
            elif kind == "fail":
                record_answer(engine, failed(step, **given))
            elif kind == "transfer":
                decision = Decision(steps=(step,), transfer_to="+15551230010")
                record_answer(engine, served(step, terminal=True, decision=decision, **given))
            else:
                webhook_id = f"{call_id}-{i}"
                post(
                    engine, "call.completed", call_id=call_id, created_at=at, webhook_id=webhook_id
                )

    def row(engine: sa.Engine) -> dict:
        with engine.connect() as conn:
            query = sa.select(calls).where(calls.c.call_id == call_id)
            return dict(conn.execute(query).mappings().one())

    play(steady)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            ingest,
            "statements",
            lambda dialect: writes.statements(dialect)._replace(answer_steady=None),
        )
        play(upsert)
    assert row(steady) == row(upsert)


def test_migrating_from_0001_fills_the_outcome_of_existing_calls(database_url):
    migrate.upgrade(database_url, "0001")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            for call_id, step, fallback, completed in (
                ("old1", "menu", "connect", None),
                ("old2", "done", None, T0),
                ("old3", None, None, T0),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO calls (call_id, first_seen, last_seen, last_step,"
                        " last_step_terminal, fallback_step, completed_at)"
                        " VALUES (:id, :t, :t, :step, :terminal, :fallback, :completed)"
                    ),
                    {
                        "id": call_id,
                        "t": T0,
                        "step": step,
                        "terminal": step == "done",
                        "fallback": fallback,
                        "completed": completed,
                    },
                )
        migrate.upgrade(engine)
        outcomes = {cid: stored_outcome(engine, cid) for cid in ("old1", "old2", "old3")}
        assert outcomes == {"old1": "fell_back", "old2": "finished", "old3": "never_answered"}
        assert get_call(engine, "old2")["outcome"]["kind"] == "finished"
    finally:
        engine.dispose()


# --- the list --------------------------------------------------------------------------


def test_the_list_is_newest_first_and_pages_cover_every_call_once(engine):
    ids = make_calls(engine, 13)
    seen, cursor = [], None
    while True:
        page = list_calls(engine, limit=5, cursor=cursor)
        seen += [row["call_id"] for row in page.calls]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_a_page_ending_exactly_at_the_last_call_has_no_next_cursor(engine):
    make_calls(engine, 4)
    assert list_calls(engine, limit=4).next_cursor is None
    assert list_calls(engine, limit=3).next_cursor is not None


def test_calls_arriving_between_pages_neither_repeat_nor_hide_a_row(engine):
    ids = make_calls(engine, 6)
    first = list_calls(engine, limit=3)
    record_answer(engine, served("menu", at=T0 + timedelta(hours=1), call_id="newer"))
    second = list_calls(engine, limit=3, cursor=first.next_cursor)
    assert [r["call_id"] for r in first.calls + second.calls] == ids[::-1]


def test_ties_on_first_seen_are_broken_by_call_id(engine):
    for call_id in ("b", "a", "c"):
        record_answer(engine, served("menu", call_id=call_id))
    pages = [list_calls(engine, limit=1)]
    while pages[-1].next_cursor:
        pages.append(list_calls(engine, limit=1, cursor=pages[-1].next_cursor))
    assert [p.calls[0]["call_id"] for p in pages] == ["c", "b", "a"]


def test_a_list_row_is_the_record_without_its_timeline(engine):
    make_calls(engine, 1)
    row = list_calls(engine).calls[0]
    record = get_call(engine, "c000")
    # The timeline, and what is read from it (the completion event's duration and cause).
    timeline = ("answers", "events", "verifications", "pushes", "duration_s", "hangup_cause")
    assert row == {k: v for k, v in record.items() if k not in timeline}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (CallFilter(flow="menu"), {"c001", "c003", "c005"}),
        (CallFilter(outcome="finished"), {"c000", "c003"}),
        (CallFilter(outcome="abandoned"), {"c001", "c004"}),
        (CallFilter(outcome="in_progress"), {"c002", "c005"}),
        (CallFilter(status="completed"), {"c000", "c001", "c003", "c004"}),
        (CallFilter(last_step="done"), {"c000", "c003"}),
        (CallFilter(flow="menu", outcome="finished"), {"c003"}),
        (CallFilter(since=T0 + timedelta(minutes=2)), {"c002", "c003", "c004", "c005"}),
        (CallFilter(until=T0 + timedelta(minutes=2)), {"c000", "c001"}),
        (
            CallFilter(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3)),
            {"c001", "c002"},
        ),
        (CallFilter(q="c004"), {"c004"}),
        (CallFilter(q="+15550000002"), {"c002"}),
        (CallFilter(q="+15551230002"), {"c000", "c001", "c002", "c003", "c004", "c005"}),
        (CallFilter(q="c00"), set()),  # exact id, not a prefix
        (CallFilter(status="nope"), set()),
        (CallFilter(), {f"c00{i}" for i in range(6)}),
    ],
)
def test_filters(engine, filters, expected):
    make_calls(engine, 6)
    assert {row["call_id"] for row in list_calls(engine, filters).calls} == expected
    assert count_calls(engine, filters) == len(expected)


def _cursor(first_seen: str, call_id) -> str:
    return base64.urlsafe_b64encode(json.dumps([first_seen, call_id]).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "x",
        "bm90IGpzb24",
        "WzEsMl0",
        "WyJ4IiwiYSJd",
        _cursor("2026-05-29T12:00:00", "a"),  # naive
        _cursor("2026-05-29T12:00:00+00:00", "a\x00b"),
        _cursor("0001-01-01T00:00:00+01:00", "a"),  # before year 1 in UTC
        _cursor("2026-05-29T12:00:00+00:00", 7),
    ],
)
def test_a_cursor_the_store_did_not_make_is_refused(engine, cursor):
    with pytest.raises(InvalidCursor):
        list_calls(engine, cursor=cursor)


@pytest.mark.parametrize("limit", [0, 501])
def test_the_limit_is_bounded(engine, limit):
    with pytest.raises(ValueError, match="limit"):
        list_calls(engine, limit=limit)


# --- export and prune -------------------------------------------------------------------


def test_export_yields_every_full_record_newest_first_across_batches(engine):
    ids = make_calls(engine, 7)
    records = list(iter_records(engine, batch=3))
    assert [r["call_id"] for r in records] == ids[::-1]
    assert records == [get_call(engine, call_id) for call_id in ids[::-1]]
    assert list(iter_records(engine, CallFilter(flow="nope"))) == []


def test_prune_deletes_old_calls_with_their_timelines_and_keeps_the_rest(engine, monkeypatch):
    monkeypatch.setattr("toneflow.store.queries.PRUNE_BATCH", 2)
    make_calls(engine, 5)  # last seen T0+0:30 … T0+4:00
    assert prune(engine, T0 + timedelta(minutes=2, seconds=45)) == 3
    assert [r["call_id"] for r in list_calls(engine).calls] == ["c004", "c003"]
    with engine.connect() as conn:
        left = {
            table.name: set(conn.execute(sa.select(table.c.call_id)).scalars())
            for table in (answers, events)
        }
    assert left == {"answers": {"c003", "c004"}, "events": {"c003", "c004"}}
    assert prune(engine, T0) == 0


# --- redaction ----------------------------------------------------------------------------


def test_redaction_masks_numbers_everywhere_they_are_stored(engine):
    call = {"id": "call_123", "from": "+15551230001", "to": "+15551230002"}
    answer = served("menu", request={"call": call})
    record_answer(engine, answer, redact_numbers=True)
    body = {
        "event": "call.completed",
        "created_at": "2026-05-29T12:10:00Z",
        "call": {"id": "call_123", "from": "+15551230001", "to": "+44 20 7946 0958"},
    }
    event = {**body, "created_at": datetime(2026, 5, 29, 12, 10, tzinfo=UTC)}
    record_event(
        engine, event=event, body=body, webhook_id=None, received_at=T0, redact_numbers=True
    )
    with engine.connect() as conn:
        stored = " ".join(
            str(row)
            for table in (calls, answers, events)
            for row in conn.execute(sa.select(table)).all()
        )
    assert "5551230001" not in stored and "7946" not in stored
    record = get_call(engine, "call_123")
    assert (record["from"], record["to"]) == ("+*******0001", "+*******0002")
    assert record["answers"][0]["request"]["call"]["from"] == "+*******0001"
    assert record["events"][0]["body"]["call"]["to"] == "+** ** **** 0958"
    # Support types the whole number they were given; it still finds the call.
    assert [r["call_id"] for r in list_calls(engine, CallFilter(q="+15551230001")).calls] == [
        "call_123"
    ]


def test_numbers_stored_before_redaction_are_masked_on_display(engine):
    record_answer(engine, served("menu"))
    record = get_call(engine, "call_123", redact_numbers=True)
    assert (record["from"], record["to"]) == ("+*******0001", "+*******0002")
    row = list_calls(engine, redact_numbers=True).calls[0]
    assert row["from"] == "+*******0001"
    assert next(iter_records(engine, redact_numbers=True))["from"] == "+*******0001"
    assert get_call(engine, "call_123")["from"] == "+15551230001"


def test_a_search_pages_through_calls_matching_as_id_from_or_to_once_each(engine):
    number = "+15559990000"
    for i in range(7):
        numbers = {"from_number": number} if i % 2 else {"to_number": number}
        call_id = number if i == 3 else f"s{i}"  # one call's id is the number itself
        record_answer(
            engine, served("menu", call_id=call_id, at=T0 + timedelta(minutes=i), **numbers)
        )
    record_answer(engine, served("menu", call_id="other", at=T0 + timedelta(minutes=9)))
    seen, cursor = [], None
    while True:
        page = list_calls(engine, CallFilter(q=number), limit=2, cursor=cursor)
        seen += [row["call_id"] for row in page.calls]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == ["s6", "s5", "s4", number, "s2", "s1", "s0"]


def test_a_transfer_served_is_the_outcome_until_a_later_step_is_served(engine):
    decision = Decision(steps=("sales",), transfer_to="+15551230010")
    record_answer(engine, served("sales", terminal=True, call_id="tr1", decision=decision))
    assert get_call(engine, "tr1")["outcome"] == {
        "kind": "transferred",
        "step": "sales",
        "reason": "to +15551230010",
    }
    post(engine, call_id="tr1", created_at=T0 + timedelta(seconds=9))
    assert get_call(engine, "tr1")["outcome"]["kind"] == "transferred"  # completed, still
    record_answer(engine, served("done", terminal=True, call_id="tr2", decision=decision))
    record_answer(engine, served("done", terminal=True, call_id="tr2", at=T0 + timedelta(1)))
    assert get_call(engine, "tr2")["outcome"]["kind"] == "in_progress"
