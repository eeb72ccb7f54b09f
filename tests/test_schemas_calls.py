"""schemas/calls.py: the one record shape. What the store reads, dumped by these schemas, is
exactly what /openapi.json describes, checked here with jsonschema, record by record.

On SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from store_support import COMPLETED_AT, T0, post, record_answer, served

from schemas.calls import CALL_PAGE, CALL_RECORD, Instant
from toneflow.store import CallLog
from toneflow.web.openapi import build_spec

SPEC = build_spec().to_dict()
ROOT = "urn:toneflow:openapi"
#: OpenAPI 3.1's schemas are JSON Schema 2020-12; the spec is one resource to resolve in.
REGISTRY = Registry().with_resource(ROOT, Resource(contents=SPEC, specification=DRAFT202012))


def validator(component: str) -> jsonschema.Draft202012Validator:
    """A validator for one of /openapi.json's components, its $refs resolved in the spec."""
    return jsonschema.Draft202012Validator(
        {"$ref": f"{ROOT}#/components/schemas/{component}"},
        registry=REGISTRY,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def seed(engine) -> list[str]:
    """A call of each shape a record can take; their ids."""
    record_answer(engine, served("menu", call_id="c1"))
    record_answer(engine, served("done", call_id="c1", terminal=True, at=T0 + timedelta(1)))
    post(engine, call_id="c1", webhook_id="msg_1", status="completed", customer_id="cust")
    record_answer(engine, served("sorry", call_id="c/2", fallback_from="menu", fallback_reason="x"))
    record_answer(engine, served("menu", call_id="..", error_reason="no name", body="{}"))
    record_answer(engine, served("menu", call_id="c4", from_number=None, to_number=None))
    post(engine, "call.ringing", call_id="c5", created_at=COMPLETED_AT + timedelta(days=9))
    return ["c1", "c/2", "..", "c4", "c5"]


@pytest.mark.parametrize("redact", [False, True])
def test_every_stored_record_dumped_validates_against_the_published_call_record(engine, redact):
    call_log = CallLog(engine, redact_numbers=redact)
    check = validator("CallRecord")
    for call_id in seed(engine):
        record = CALL_RECORD.dump(call_log.get(call_id))
        check.validate(record)
        assert record["call_id"] == call_id
    page = CALL_PAGE.dump(call_log.list(limit=2))
    validator("CallPage").validate(page)
    assert len(page["calls"]) == 2 and page["next_cursor"]


def test_a_record_with_a_key_the_spec_does_not_name_is_refused(engine):
    """The published shape is closed, so a key added to the dump alone would be caught."""
    seed(engine)
    record = CALL_RECORD.dump(CallLog(engine).get("c1"))
    with pytest.raises(jsonschema.ValidationError):
        validator("CallRecord").validate({**record, "extra": 1})
    with pytest.raises(jsonschema.ValidationError):
        validator("CallRecord").validate({k: v for k, v in record.items() if k != "outcome"})


def test_the_record_keeps_the_contracts_key_order_and_spelling(engine):
    seed(engine)
    record = CALL_RECORD.dump(CallLog(engine).get("c1"))
    assert list(record)[:8] == [
        "call_id", "flow", "dialect", "status", "direction", "from", "to", "customer_id",
    ]  # fmt: skip
    assert record["from"] == "+15551230001" and record["first_seen"] == "2026-05-29T12:00:00Z"
    assert list(record["events"][0]) == [
        "received_at", "webhook_id", "event", "created_at", "future_dated", "body",
    ]  # fmt: skip


def test_times_are_written_in_utc_with_a_z_whatever_their_zone():
    field = Instant()
    east = datetime(2026, 5, 29, 14, 0, 0, 123000, tzinfo=UTC).astimezone(
        timezone(timedelta(hours=2))
    )
    assert east.hour == 16
    assert field.serialize("t", {"t": east}) == "2026-05-29T14:00:00.123000Z"
    assert field.serialize("t", {"t": None}) is None
