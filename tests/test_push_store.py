"""Pushes in the call log: on the call's timeline, a call made when a push is the first
toneflow hears of it, kept with answers, pruned with the call; migration 0005."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from store_support import T0, get_call, prune, record_answer, served
from test_push_plan import CONFERENCE

from toneflow.push.client import start
from toneflow.push.plan import plan_push
from toneflow.store import CallLog, make_engine, migrate


def pushed(at, *, ok=True):
    record = start(plan_push(CONFERENCE, "join", "vicidial", {}), {"agent_user": "a1"}, at=at)
    record.ok = ok
    record.error = None if ok else "VICIdial answered with an error (reply: 'ERROR: x')"
    record.requests = [
        {
            "action": 1,
            "wait_ms": 0,
            "method": "GET",
            "url": "http://v/agc/api.php?pass=****&value=QQQQ1234SQQQQQ6654P",
            "headers": {},
            "body": None,
            "sent_at_ms": 0.1,
            "duration_ms": 3.0,
            "attempts": 1,
            "status": 200,
            "reply": "SUCCESS: send_dtmf function set - QQQQ1234SQQQQQ6654P|6666"
            if ok
            else "ERROR: x",
            "error": record.error,
        }
    ]
    return record.as_record()


def test_a_push_makes_its_call_and_goes_on_its_timeline(engine):
    call_log = CallLog(engine)
    call_log.record_push("a1", pushed(T0), seen_at=T0)
    later = T0 + timedelta(minutes=1)
    call_log.record_push("a1", pushed(later, ok=False), seen_at=later)
    record = get_call(engine, "a1")
    assert record["first_seen"] == "2026-05-29T12:00:00Z"
    assert record["last_seen"] == "2026-05-29T12:01:00Z"
    assert record["outcome"] == {"kind": "never_answered", "step": None, "reason": None}
    assert [p["ok"] for p in record["pushes"]] == [True, False]
    first = record["pushes"][0]
    assert first["reference"] == {"agent_user": "a1"}
    assert first["sends"] == [{"action": 1, "digits": "1234*WWWWW6654#", "pause_before_ms": 4000}]
    assert first["requests"][0]["reply"].startswith("SUCCESS")


def test_a_push_on_a_served_call_keeps_its_outcome_and_first_seen(engine):
    record_answer(engine, served("menu", call_id="a1"))
    before = get_call(engine, "a1")
    CallLog(engine).record_push(
        "a1", pushed(T0 + timedelta(hours=1)), seen_at=T0 + timedelta(hours=1)
    )
    after = get_call(engine, "a1")
    assert after["outcome"] == before["outcome"]
    assert after["first_seen"] == before["first_seen"]
    assert after["last_seen"] == "2026-05-29T13:00:00Z"
    assert len(after["answers"]) == 1 and len(after["pushes"]) == 1


def test_pruning_a_call_removes_its_pushes(engine):
    CallLog(engine).record_push("a1", pushed(T0), seen_at=T0)
    assert prune(engine, T0 + timedelta(days=1)) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from pushes")).scalar() == 0


def test_migration_0005_goes_down_and_up_again(database_url):
    """0005 only adds ``pushes``: down to 0004 drops it and keeps the calls."""
    from alembic import command

    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        CallLog(engine).record_push("keep1", pushed(T0), seen_at=T0)
        with engine.begin() as connection:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        assert "pushes" not in sa.inspect(engine).get_table_names()
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        assert get_call(engine, "keep1")["pushes"] == []
    finally:
        engine.dispose()
