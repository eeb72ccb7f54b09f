"""Write what happened on a call: an answer served (or failed), or a platform's event.

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
* the first fallback served is the one the outcome reports (:mod:`toneflow.outcome`);
* an answer that failed with no fallback (a 500) is on the timeline and the outcome;
* ``calls.outcome`` holds the outcome kind (``writes.OUTCOME_SQL``), written by the same
  statement as the rest of the call row, so the list filters on it through an index;
* an answer's record survives the worker being killed (on SQLite it is committed with
  ``synchronous=NORMAL``); an event is acknowledged only once it would survive power loss.

When redacting, phone numbers are masked (:mod:`toneflow.redact`) before they are
written, in the call row, the recorded request and the stored event body alike. These
functions are the :class:`~toneflow.store.CallLog`'s; nothing else calls them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from toneflow.funnel import path_part
from toneflow.redact import mask_answer, mask_document, mask_number, mask_values
from toneflow.request import DETAIL_FIELDS, NUMBER_COLUMNS, AnswerRequest
from toneflow.store.direct import Rollback, transaction
from toneflow.store.engine import CRASH_SAFE
from toneflow.store.pins import first_version_query, pinned_insert
from toneflow.store.tables import CALL_ID_MAX, DEDUPE_KEY_MAX
from toneflow.store.writes import params, statements

COMPLETED_EVENT = "call.completed"
COMPLETED_STATUS = "completed"
#: How far ahead of its receipt an event's ``created_at`` may be and still be believed.
FUTURE_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class AnswerEntry:
    """One answer as its timeline row keeps it: built from the request and what was sent.

    ``step`` is the step whose actions were served (the fallback step, on a fallback), or
    the step that failed when ``error_reason`` is set (the platform got a 500 and ``body``
    is the error body).
    """

    request: AnswerRequest
    at: datetime
    dialect: str
    flow: str
    flow_version: str
    step: str
    terminal: bool
    body: str
    duration_ms: float
    fallback_from: str | None = None
    fallback_reason: str | None = None
    error_reason: str | None = None
    #: ``toneflow.answer.Decision.as_dict()``: kept with the answer, in the same insert.
    decision: dict[str, Any] | None = None
    #: The step the platform asked for (None: the start step), for ``toneflow replay``.
    requested_step: str | None = None

    @property
    def status(self) -> int:
        return 500 if self.error_reason is not None else 200


class PinnedElsewhere(Exception):
    """The call started on another version of the flow; nothing was written.

    A call keeps the version that served its first answer (:mod:`toneflow.store.pins`):
    the caller serves the step again with ``version`` and writes that.
    """

    def __init__(self, flow: str, version: str) -> None:
        super().__init__(f"the call is pinned to version {version} of flow '{flow}'")
        self.flow = flow
        self.version = version


def write_answer(engine: Engine, entry: AnswerEntry, *, redact: bool) -> None:
    """Log one served (or failed) answer and bring its call's summary up to date, atomically.

    A failed answer goes on the timeline and, if it is the call's first, on the call as
    ``error_step``; it never moves ``last_step``, since nothing of that step was served.
    Raises :class:`PinnedElsewhere`, writing nothing, when the call started on another
    version of the flow than the one that answered.
    """
    call = entry.request.call
    call_id = call.get("id")
    check_call_id(call_id)
    at = _aware(entry.at, "answer.at")
    request, body = _as_stored(entry, redact)
    decision = _stored_decision(entry, redact)
    served = entry.error_reason is None
    values = params(
        call_id=call_id,
        seen_at=at,
        flow=entry.flow,
        dialect=entry.dialect,
        step=entry.step,
        terminal=entry.terminal,
        served=served,
        has_fallback=entry.fallback_from is not None,
        fallback_from=entry.fallback_from,
        fallback_reason=entry.fallback_reason,
        has_error=not served,
        error_reason=entry.error_reason,
        transfer_to=(decision or {}).get("transfer_to") if served else None,
        flow_version=entry.flow_version,
        path_part=path_part(_steps(entry), entry.fallback_from),
        **_given(redact, {f.column: call.get(f.name) for f in DETAIL_FIELDS}),
    )
    row = {
        "call_id": call_id,
        "at": at,
        **_timeline_fields(entry, request, body, decision),
        "status": entry.status,
    }
    write = statements(engine.dialect.name)
    # An answer's record must survive the worker being killed, not power loss: on SQLite
    # its commit skips the fsync (``synchronous=NORMAL``); an event's never does.
    with transaction(engine, synchronous=CRASH_SAFE) as tx:
        # The call row first: on PostgreSQL the row lock taken here orders concurrent
        # answers to one call, so answer ids follow serving order.
        if write.answer_steady is None or not tx.execute(write.answer_steady, values):
            tx.execute(write.answer_upsert, values)
        tx.execute(pinned_insert(), row)
        if tx.first() is None:  # refused: the call's answers of this flow are another version's
            tx.execute(first_version_query(), {"call_id": call_id, "flow": entry.flow})
            raise PinnedElsewhere(entry.flow, tx.first())  # rolls the upsert back


def _steps(entry: AnswerEntry) -> list[str]:
    """The steps an answer passed through (its decision's; else just its step)."""
    steps = (entry.decision or {}).get("steps")
    return list(steps) if steps else [entry.step]


def loggable_answer(entry: AnswerEntry, *, redact: bool) -> dict[str, Any]:
    """An answer as :func:`write_answer` would have stored it, for a log line when it could
    not be: the call's fields, the timeline row, masked exactly as the store would have."""
    call = entry.request.call
    request, body = _as_stored(entry, redact)
    values: dict[str, Any] = {
        "call_id": call.get("id"),
        **{f.column: call.get(f.name) for f in DETAIL_FIELDS},
        "at": entry.at.isoformat(),
        **_timeline_fields(entry, request, body, _stored_decision(entry, redact)),
    }
    if redact:
        values.update((column, mask_number(values[column])) for column in NUMBER_COLUMNS)
    return values


def _stored_decision(entry: AnswerEntry, redact: bool) -> dict[str, Any] | None:
    """The decision as kept: phone-like values (keys pressed, a transfer) masked when
    redacting, as they are in the recorded request."""
    if entry.decision is None or not redact:
        return entry.decision
    return mask_values(entry.decision)


def _timeline_fields(
    entry: AnswerEntry, request: Any, body: str, decision: dict[str, Any] | None
) -> dict[str, Any]:
    """An answer's timeline row as stored (``request``/``body`` already masked when
    redacting): one list of fields for the write and for the log line that replaces it."""
    return {
        "dialect": entry.dialect,
        "flow": entry.flow,
        "flow_version": entry.flow_version,
        "step": entry.step,
        "terminal": entry.terminal,
        "request": request,
        "body": body,
        "duration_ms": entry.duration_ms,
        "fallback_from": entry.fallback_from,
        "fallback_reason": entry.fallback_reason,
        "error_reason": entry.error_reason,
        "decision": decision,
        "requested_step": entry.requested_step,
    }


def write_event(
    engine: Engine,
    *,
    event: Mapping[str, Any],
    body: Mapping[str, Any],
    webhook_id: str | None,
    received_at: datetime,
    redact: bool,
) -> bool:
    """Store a validated webhook once and apply it to its call; False for a duplicate.

    ``event`` is the validated payload (``created_at`` an aware datetime); ``body`` is
    the JSON object exactly as received, which is what gets stored. A duplicate (same
    ``webhook_id``, or without one the same event, call id and ``created_at``) changes
    nothing. Returns only once the transaction has committed.
    """
    call = event["call"]
    call_id = call["id"]
    check_call_id(call_id)
    name = event["event"]
    created_at = _aware(event["created_at"], "event created_at")
    received_at = _aware(received_at, "received_at")
    webhook_id = webhook_id or None
    given = _given(redact, {f.column: call.get(f.name) for f in DETAIL_FIELDS})
    if redact:
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
    with transaction(engine) as tx:  # power-safe: committed before the 200 is sent
        # The call row first (the event row refers to it); a duplicate undoes it.
        tx.execute(write.event_upsert, values)
        tx.execute(write.event_insert, values)
        inserted = tx.first()
        if inserted is None:
            raise Rollback
    return inserted is not None


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


def check_call_id(call_id: Any) -> None:
    """Refuse what no call id is: a write must name its call (the schemas say so first)."""
    if not isinstance(call_id, str) or not call_id:
        raise ValueError("a call id must be a non-empty string")
    if len(call_id) > CALL_ID_MAX:
        raise ValueError(f"a call id must be at most {CALL_ID_MAX} characters")


def _as_stored(entry: AnswerEntry, redact: bool) -> tuple[dict[str, Any], str]:
    """The request and body an answer's timeline entry keeps (masked when redacting)."""
    request = entry.request.as_dict()
    if not redact:
        return request, entry.body
    call = entry.request.call
    return mask_answer(request, entry.body, call.get("from"), call.get("to"))


def _given(redact: bool, values: dict[str, Any]) -> dict[str, Any]:
    """Every call field, None where not given (None and empty strings say nothing), the
    phone numbers masked when redacting."""
    given = {name: None if value in (None, "") else value for name, value in values.items()}
    if redact:
        for column in NUMBER_COLUMNS:
            given[column] = mask_number(given.get(column))
    return given


def _aware(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return value
