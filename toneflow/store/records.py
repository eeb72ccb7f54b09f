"""Read calls back as records: a call row and its timeline rows as plain data.

Plain data, not the wire shape: times are aware datetimes and the call's fields keep
their column names (``from_number``). ``schemas.calls.CallRecordSchema`` (and the
summary and page schemas) dump these into the JSON the API serves and ``/openapi.json``
describes, so there is one place that says what a record looks like on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from toneflow.outcome import call_ending, derive_outcome
from toneflow.store.engine import reading
from toneflow.store.ingest import is_future_dated, order_time
from toneflow.store.tables import answers, calls, events, verifications

#: Columns of a call row a summary carries as they are, in the record's order.
SUMMARY_COLUMNS = (
    "call_id", "flow", "dialect", "status", "direction", "from_number", "to_number",
    "customer_id", "application_id", "first_seen", "last_seen", "completed_at", "last_step",
    "flow_version",
)  # fmt: skip
ANSWER_COLUMNS = (
    "at", "dialect", "flow", "flow_version", "step", "request", "body", "duration_ms",
    "fallback_from", "fallback_reason", "status", "error_reason", "decision",
)  # fmt: skip
EVENT_COLUMNS = ("received_at", "webhook_id", "event", "created_at", "body")
VERIFICATION_COLUMNS = ("at", "recording", "served", "heard", "difference")


def read_call(engine: Engine, call_id: str) -> dict[str, Any] | None:
    """One call's record and timeline, or None if unknown."""
    with reading(engine) as conn:
        call = conn.execute(sa.select(calls).where(calls.c.call_id == call_id)).mappings().first()
        if call is None:
            return None
        return read_records(conn, [call])[0]


#: The timeline tables a record is read from, in ``call_record``'s argument order, each
#: with the order its entries are kept in.
TIMELINE_QUERIES = (
    (answers, (answers.c.id,)),
    (events, (events.c.created_at, events.c.id)),
    (verifications, (verifications.c.id,)),
)


def read_records(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Full records for call rows, in three timeline queries for all of them."""
    ids = [row["call_id"] for row in rows]
    if not ids:
        return []
    by_call: dict[str, tuple[list, list, list]] = {call_id: ([], [], []) for call_id in ids}
    for slot, (table, order) in enumerate(TIMELINE_QUERIES):
        found = conn.execute(
            sa.select(table).where(table.c.call_id.in_(ids)).order_by(*order)
        ).mappings()
        for row in found:
            by_call[row["call_id"]][slot].append(row)
    return [call_record(row, *by_call[row["call_id"]]) for row in rows]


def call_summary(call: Mapping[str, Any]) -> dict[str, Any]:
    """A call row as a record without its timeline (what a list shows), with its outcome."""
    summary = {column: call[column] for column in SUMMARY_COLUMNS}
    summary["outcome"] = derive_outcome(
        completed=call["completed_at"] is not None,
        last_step=call["last_step"],
        last_step_terminal=call["last_step_terminal"],
        fallback_step=call["fallback_step"],
        fallback_reason=call["fallback_reason"],
        error_step=call["error_step"],
        error_reason=call["error_reason"],
        transfer_to=call["transfer_to"],
    )
    return summary


def call_record(
    call: Mapping[str, Any],
    answer_rows: Sequence[Mapping[str, Any]],
    event_rows: Sequence[Mapping[str, Any]],
    verification_rows: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A call row and its timeline rows as the full record."""
    return {
        **call_summary(call),
        **call_ending(row["body"] for row in event_rows),
        "answers": [{column: row[column] for column in ANSWER_COLUMNS} for row in answer_rows],
        "events": [
            {
                **{column: row[column] for column in EVENT_COLUMNS},
                "future_dated": is_future_dated(row["created_at"], row["received_at"]),
            }
            # In the order status follows; sorted() is stable, so ties keep stored order.
            for row in sorted(
                event_rows, key=lambda row: order_time(row["created_at"], row["received_at"])
            )
        ],
        "verifications": [
            {
                **{column: row[column] for column in VERIFICATION_COLUMNS},
                "matched": row["difference"] is None,
            }
            for row in verification_rows
        ],
    }
