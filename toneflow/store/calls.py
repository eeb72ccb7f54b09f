"""Record what happened on a call, and read one call back as the contract's record.

Every write is one short transaction that appends a row (an answer or an event) and
brings the call's summary row up to date, so the summary can never disagree with the
rows it summarises. The summary updates are written as SQL expressions over the row's
current values (fill if null, keep the later time, compare ``status_at``), so they are
correct however concurrent writers interleave: each UPDATE sees the latest committed
row, on PostgreSQL under the row lock and on SQLite under the immediate write lock.

Rules the contract sets, each in one place here:

* redelivered events are stored once (``dedupe_key``, insert-or-nothing);
* an event changes ``status`` only if it is not older than the one that set it, by its
  :func:`order_time` (``created_at``, or its receipt time when ``created_at`` is more than
  :data:`FUTURE_SKEW` ahead of it: a clock in the future must not freeze the call);
* ``completed_at`` is the earliest :func:`order_time` of the call's ``call.completed``s;
* ``call.completed`` fixes ``last_step``: later answers are logged but don't move it;
* the first fallback served is the one the outcome reports (:func:`derive_outcome`);
* an answer that failed with no fallback (a 500) is on the timeline and the outcome;
* ``calls.outcome`` holds the outcome kind (``writes.OUTCOME_SQL``), refreshed in the same
  transaction as every write, so the list filters on it through an index.

With ``redact_numbers``, phone numbers are masked (:mod:`toneflow.redact`) before they
are written, in the call row, the recorded request and the stored event body alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from toneflow.redact import mask_answer, mask_document, mask_number, mask_record
from toneflow.request import DETAIL_FIELDS, NUMBER_COLUMNS
from toneflow.store.engine import reading
from toneflow.store.tables import CALL_ID_MAX, DEDUPE_KEY_MAX, answers, calls, events
from toneflow.store.writes import params, statements

COMPLETED_EVENT = "call.completed"
COMPLETED_STATUS = "completed"
#: How far ahead of its receipt an event's ``created_at`` may be and still be believed.
FUTURE_SKEW = timedelta(minutes=5)

# Event "call" fields copied onto the call row -> the column they fill.
_EVENT_CALL_FIELDS = {f.name: f.column for f in DETAIL_FIELDS}


@dataclass(frozen=True)
class ServedAnswer:
    """One answer as served: what the web layer hands the store after responding."""

    call_id: str
    from_number: str | None
    to_number: str | None
    direction: str | None
    customer_id: str | None
    application_id: str | None
    at: datetime  # aware; when the answer was served
    dialect: str
    flow: str
    flow_version: str
    step: str  # the step whose actions were served (the fallback step, on a fallback)
    terminal: bool  # nothing in the step leads on: no redirect, no collect_digits
    request: dict[str, Any]
    body: str  # the exact bytes sent, as text
    duration_ms: float
    fallback_from: str | None = None  # the step that could not render
    fallback_reason: str | None = None
    #: Set when the step failed and no fallback could be served: the platform got a 500
    #: (``body`` is then the error body, ``step`` the step that failed).
    error_reason: str | None = None

    @property
    def status(self) -> int:
        return 500 if self.error_reason is not None else 200


OUTCOME_KINDS = ("in_progress", "finished", "abandoned", "fell_back", "failed", "never_answered")


def record_answer(engine: Engine, answer: ServedAnswer, *, redact_numbers: bool = False) -> None:
    """Log one served (or failed) answer and bring its call's summary up to date, atomically.

    A failed answer (``error_reason`` set) goes on the timeline and, if it is the call's
    first, on the call as ``error_step``; it never moves ``last_step``, since nothing of
    that step was served.
    """
    _check_call_id(answer.call_id)
    at = _aware(answer.at, "answer.at")
    request, body = _answer_as_stored(answer, redact_numbers)
    served = answer.error_reason is None
    values = params(
        call_id=answer.call_id,
        seen_at=at,
        flow=answer.flow,
        dialect=answer.dialect,
        step=answer.step,
        terminal=answer.terminal,
        served=served,
        has_fallback=answer.fallback_from is not None,
        fallback_from=answer.fallback_from,
        fallback_reason=answer.fallback_reason,
        has_error=not served,
        error_reason=answer.error_reason,
        **_given(
            redact_numbers,
            direction=answer.direction,
            from_number=answer.from_number,
            to_number=answer.to_number,
            customer_id=answer.customer_id,
            application_id=answer.application_id,
        ),
    )
    row = {
        "call_id": answer.call_id,
        "at": at,
        "dialect": answer.dialect,
        "flow": answer.flow,
        "flow_version": answer.flow_version,
        "step": answer.step,
        "terminal": answer.terminal,
        "request": request,
        "body": body,
        "duration_ms": answer.duration_ms,
        "fallback_from": answer.fallback_from,
        "fallback_reason": answer.fallback_reason,
        "status": answer.status,
        "error_reason": answer.error_reason,
    }
    write = statements(engine.dialect.name)
    with engine.begin() as conn:
        conn.execute(write.ensure_call, values)
        # Update the call before inserting the answer: on PostgreSQL the row lock taken
        # here orders concurrent answers to one call, so answer ids follow serving order.
        conn.execute(write.answer_update, values)
        conn.execute(write.outcome_update, values)
        conn.execute(write.answer_insert, row)


def record_event(
    engine: Engine,
    *,
    event: Mapping[str, Any],
    body: Mapping[str, Any],
    webhook_id: str | None,
    received_at: datetime,
    redact_numbers: bool = False,
) -> bool:
    """Store a validated webhook once and apply it to its call; False for a duplicate.

    ``event`` is the validated payload (``created_at`` an aware datetime); ``body`` is
    the JSON object exactly as received, which is what gets stored. A duplicate (same
    ``webhook_id``, or without one the same event, call id and ``created_at``) changes
    nothing. Returns only once the transaction has committed.
    """
    call = event["call"]
    call_id = call["id"]
    _check_call_id(call_id)
    name = event["event"]
    created_at = _aware(event["created_at"], "event created_at")
    received_at = _aware(received_at, "received_at")
    webhook_id = webhook_id or None
    given = _given(
        redact_numbers, **{column: call.get(key) for key, column in _EVENT_CALL_FIELDS.items()}
    )
    if redact_numbers:
        body = mask_document(body)
    new_status = call.get("status") or (COMPLETED_STATUS if name == COMPLETED_EVENT else None)
    values = params(
        call_id=call_id,
        seen_at=received_at,
        flow=None,
        dialect=None,
        dedupe_key=dedupe_key(
            event=name, call_id=call_id, created_at=created_at, webhook_id=webhook_id
        ),
        webhook_id=webhook_id,
        event=name,
        created_at=created_at,
        received_at=received_at,
        order_at=order_time(created_at, received_at),
        body=dict(body),
        has_status=new_status is not None,
        status=new_status,
        completes=name == COMPLETED_EVENT,
        **given,
    )
    write = statements(engine.dialect.name)
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(write.ensure_call, values)
        inserted = conn.execute(write.event_insert, values).scalar_one_or_none()
        if inserted is None:
            transaction.rollback()
            return False
        conn.execute(write.event_update, values)
        conn.execute(write.outcome_update, values)
    return True


def is_future_dated(created_at: datetime, received_at: datetime) -> bool:
    """An event that says it was created more than :data:`FUTURE_SKEW` after it arrived."""
    return created_at - received_at > FUTURE_SKEW


def order_time(created_at: datetime, received_at: datetime) -> datetime:
    """Where an event goes in its call's order: when it was created, as it says, unless that
    is in the future (:func:`is_future_dated`); then when it was received.

    Platform clocks drift by seconds, so a small lead is believed; an event dated
    9999-12-31 would otherwise set a status and a completion no genuine event could follow.
    """
    return received_at if is_future_dated(created_at, received_at) else created_at


def loggable_answer(answer: ServedAnswer, *, redact_numbers: bool = False) -> dict[str, Any]:
    """An answer as :func:`record_answer` would have stored it, for a log line when it
    could not be: with ``redact_numbers``, masked exactly as the store would have."""
    values = asdict(answer)
    values["at"] = answer.at.isoformat()
    values["request"], values["body"] = _answer_as_stored(answer, redact_numbers)
    if redact_numbers:
        values.update((column, mask_number(values[column])) for column in NUMBER_COLUMNS)
    return values


def _answer_as_stored(answer: ServedAnswer, redact_numbers: bool) -> tuple[dict[str, Any], str]:
    """The request and body an answer's timeline entry keeps (masked when redacting)."""
    if not redact_numbers:
        return answer.request, answer.body
    return mask_answer(answer.request, answer.body, answer.from_number, answer.to_number)


def dedupe_key(*, event: str, call_id: str, created_at: datetime, webhook_id: str | None) -> str:
    """The identity of a delivery: its webhook-id, else (event, call id, created_at).

    ``created_at`` is compared as an instant (normalised to UTC), so the same time
    written with another offset is still the same event.
    """
    if webhook_id:
        key = "webhook-id:" + webhook_id
        if len(key) <= DEDUPE_KEY_MAX:
            return key
        return "webhook-id-sha256:" + hashlib.sha256(webhook_id.encode()).hexdigest()
    instant = _aware(created_at, "created_at").astimezone(UTC).isoformat()
    identity = json.dumps([event, call_id, instant], separators=(",", ":"))
    return "event:" + hashlib.sha256(identity.encode()).hexdigest()


def derive_outcome(
    *,
    completed: bool,
    last_step: str | None,
    last_step_terminal: bool | None,
    fallback_step: str | None,
    fallback_reason: str | None,
    error_step: str | None = None,
    error_reason: str | None = None,
) -> dict[str, str | None]:
    """The contract's ``outcome``: what became of the call, in one rule.

    ``fell_back`` wins (``step`` is the step that could not render); then ``failed`` (a
    step could not render and there was no fallback: the platform got a 500); then a completed
    call ``finished`` on a terminal step, was ``abandoned`` on a step that led on, or
    was ``never_answered``; an open call is ``in_progress`` once a step was served.
    ``step`` is otherwise the last step served, or None when none was.
    """
    if fallback_step is not None:
        return {"kind": "fell_back", "step": fallback_step, "reason": fallback_reason}
    if error_step is not None:
        return {"kind": "failed", "step": error_step, "reason": error_reason}
    if last_step is None:
        return {"kind": "never_answered", "step": None, "reason": None}
    if not completed:
        kind = "in_progress"
    elif last_step_terminal:
        kind = "finished"
    else:
        kind = "abandoned"
    return {"kind": kind, "step": last_step, "reason": None}


def get_call(
    engine: Engine, call_id: str, *, redact_numbers: bool = False
) -> dict[str, Any] | None:
    """One call's record and timeline in the contract's shape, or None if unknown.

    With ``redact_numbers``, numbers stored before redaction was turned on are masked too.
    """
    with reading(engine) as conn:
        call = conn.execute(sa.select(calls).where(calls.c.call_id == call_id)).mappings().first()
        if call is None:
            return None
        answer_rows = (
            conn.execute(
                sa.select(answers).where(answers.c.call_id == call_id).order_by(answers.c.id)
            )
            .mappings()
            .all()
        )
        event_rows = (
            conn.execute(
                sa.select(events)
                .where(events.c.call_id == call_id)
                .order_by(events.c.created_at, events.c.id)
            )
            .mappings()
            .all()
        )
    record = call_record(call, answer_rows, event_rows)
    return mask_record(record) if redact_numbers else record


def ping(engine: Engine) -> None:
    """Raise unless the store can be written and has the call log schema (for /healthz).

    A write transaction (``BEGIN IMMEDIATE`` on SQLite) that writes nothing: a store that
    can be read but not written (locked past its timeout, read-only) is down for us.
    """
    with engine.begin() as conn:
        conn.execute(sa.select(calls.c.call_id).limit(1)).all()


def call_summary(call: Mapping[str, Any]) -> dict[str, Any]:
    """A call row as the contract's record, without its timeline (what a list shows)."""
    return {
        "call_id": call["call_id"],
        "flow": call["flow"],
        "dialect": call["dialect"],
        "status": call["status"],
        "direction": call["direction"],
        "from": call["from_number"],
        "to": call["to_number"],
        "customer_id": call["customer_id"],
        "application_id": call["application_id"],
        "first_seen": _iso(call["first_seen"]),
        "last_seen": _iso(call["last_seen"]),
        "completed_at": _iso(call["completed_at"]),
        "last_step": call["last_step"],
        "outcome": derive_outcome(
            completed=call["completed_at"] is not None,
            last_step=call["last_step"],
            last_step_terminal=call["last_step_terminal"],
            fallback_step=call["fallback_step"],
            fallback_reason=call["fallback_reason"],
            error_step=call["error_step"],
            error_reason=call["error_reason"],
        ),
    }


def call_record(
    call: Mapping[str, Any],
    answer_rows: Sequence[Mapping[str, Any]],
    event_rows: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """A call row and its timeline rows as the contract's full record."""
    return {
        **call_summary(call),
        "answers": [
            {
                "at": _iso(row["at"]),
                "dialect": row["dialect"],
                "flow": row["flow"],
                "flow_version": row["flow_version"],
                "step": row["step"],
                "request": row["request"],
                "body": row["body"],
                "duration_ms": row["duration_ms"],
                "fallback_from": row["fallback_from"],
                "fallback_reason": row["fallback_reason"],
                "status": row["status"],
                "error_reason": row["error_reason"],
            }
            for row in answer_rows
        ],
        "events": [
            {
                "received_at": _iso(row["received_at"]),
                "webhook_id": row["webhook_id"],
                "event": row["event"],
                "created_at": _iso(row["created_at"]),
                "future_dated": is_future_dated(row["created_at"], row["received_at"]),
                "body": row["body"],
            }
            # In the order status follows; sorted() is stable, so ties keep stored order.
            for row in sorted(
                event_rows, key=lambda row: order_time(row["created_at"], row["received_at"])
            )
        ],
    }


def _given(redact_numbers: bool, **values: Any) -> dict[str, Any]:
    """Every call field, None where not given (None and empty strings say nothing), the
    phone numbers masked when ``redact_numbers``."""
    given = {name: None if value in (None, "") else value for name, value in values.items()}
    if redact_numbers:
        for column in NUMBER_COLUMNS:
            given[column] = mask_number(given.get(column))
    return given


def _aware(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return value


def _check_call_id(call_id: Any) -> None:
    if not isinstance(call_id, str) or not call_id:
        raise ValueError("a call id must be a non-empty string")
    if len(call_id) > CALL_ID_MAX:
        raise ValueError(f"a call id must be at most {CALL_ID_MAX} characters")


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as every time in the contract is written."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
