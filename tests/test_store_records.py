"""toneflow.store.records: a call's record as it is read back.

Runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL (``database_url``).
"""

from __future__ import annotations

from datetime import timedelta, timezone

import sqlalchemy as sa
from store_support import (
    COMPLETED_AT,
    RECEIVED,
    T0,
    get_call,
    post,
    record_answer,
    served,
)

from toneflow.store.tables import answers, events

# --- reads -----------------------------------------------------------------------


def test_unknown_call_is_none(engine):
    assert get_call(engine, "nope") is None


def test_times_read_back_as_aware_utc(engine):
    offset = timezone(timedelta(hours=-4))
    post(
        engine,
        created_at=COMPLETED_AT.astimezone(offset),
        received_at=RECEIVED.astimezone(offset),
    )
    record_answer(engine, served("menu", at=T0.astimezone(offset)))
    with engine.connect() as conn:
        created_at = conn.execute(sa.select(events.c.created_at)).scalar_one()
        at = conn.execute(sa.select(answers.c.at)).scalar_one()
    assert created_at == COMPLETED_AT
    assert created_at.utcoffset() == timedelta(0)
    assert at.utcoffset() == timedelta(0)
    record = get_call(engine, "call_123")
    assert record["completed_at"] == "2026-05-29T12:10:00Z"
    assert record["answers"][0]["at"] == "2026-05-29T12:00:00Z"
