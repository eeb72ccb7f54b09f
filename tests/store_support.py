"""Helpers for tests that write and read the call log directly, without the web layer.

They go through :class:`~toneflow.store.CallLog` as the app does, and read records in the
wire shape (dumped by ``schemas.calls``), which is what the contract's assertions are about.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from support import SEED_WEBHOOK

from schemas.calls import CALL_PAGE, CALL_RECORD
from toneflow.answer import Answer, AnswerFailed, Decision, StepFailed
from toneflow.flows.model import Flow
from toneflow.listing import NO_FILTER, CallFilter
from toneflow.request import AnswerRequest
from toneflow.store import CallLog, Page

# The MiniVoice seed webhook, as a platform posts it.
SEED_BODY: dict[str, Any] = SEED_WEBHOOK
COMPLETED_AT = datetime(2026, 5, 29, 12, 10, tzinfo=UTC)
T0 = datetime(2026, 5, 29, 12, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 5, 29, 12, 10, 1, tzinfo=UTC)
_UNSET: Any = object()


class Served:
    """An answer as the web layer hands it to the call log: the request and what was sent
    (or, with ``error_reason``, the step that failed and the error body)."""

    def __init__(self, request: AnswerRequest, flow: Flow, **entry: Any) -> None:
        self.request = request
        self.flow = flow
        self.entry = entry

    def record(self, call_log: CallLog) -> None:
        e = self.entry
        if e["error_reason"] is not None:
            failed = AnswerFailed(StepFailed(e["step"], e["error_reason"]), "no fallback")
            call_log.record_failure(
                self.request,
                failed,
                flow=self.flow,
                dialect=e["dialect"],
                body=e["body"],
                at=e["at"],
                duration_ms=e["duration_ms"],
            )
            return
        answer = Answer(
            flow=self.flow,
            step=e["step"],
            dialect=e["dialect"],
            body=e["body"].encode("utf-8"),
            terminal=e["terminal"],
            fallback_from=e["fallback_from"],
            fallback_reason=e["fallback_reason"],
            decision=e["decision"],
        )
        call_log.record_answer(self.request, answer, at=e["at"], duration_ms=e["duration_ms"])


def served(
    step: str,
    *,
    terminal: bool = False,
    at: datetime = T0,
    call_id: str = "call_123",
    fallback_from: str | None = None,
    fallback_reason: str | None = None,
    from_number: str | None = "+15551230001",
    to_number: str | None = "+15551230002",
    direction: str | None = "inbound",
    request: dict[str, Any] | None = None,
    body: Any = _UNSET,
    error_reason: str | None = None,
    dialect: str = "minivoice",
    flow: str = "h_menu",
    flow_version: str = "sha256:abc",
    duration_ms: float = 1.25,
    decision: Decision | None = None,
) -> Served:
    """An answer to ``step`` of call ``call_id``; the call's fields go in its request."""
    given = {"id": call_id, "from": from_number, "to": to_number, "direction": direction}
    call = {key: value for key, value in given.items() if value is not None}
    variables: dict[str, Any] = {"lang": "en"}
    digits = None
    if request is not None:  # the request as the platform gave it: its call is the call
        call = dict(request.get("call", {}))
        variables = request.get("variables", {})
        digits = request.get("input", {}).get("digits")
    if body is _UNSET:
        body = '{"actions": [{"hangup": {}}]}' if terminal else '{"actions": []}'
    return Served(
        AnswerRequest(call=call, digits=digits, variables=variables),
        Flow(name=flow, path=f"{flow}.yaml", version=flow_version, steps={}, start=step),
        step=step,
        terminal=terminal,
        at=at,
        dialect=dialect,
        body=body,
        duration_ms=duration_ms,
        fallback_from=fallback_from,
        fallback_reason=fallback_reason,
        error_reason=error_reason,
        decision=decision,
    )


def record_answer(engine: sa.Engine, answer: Served, *, redact_numbers: bool = False) -> None:
    answer.record(CallLog(engine, redact_numbers=redact_numbers))


def get_call(
    engine: sa.Engine, call_id: str, *, redact_numbers: bool = False
) -> dict[str, Any] | None:
    """A call's record as the API serves it, or None."""
    record = CallLog(engine, redact_numbers=redact_numbers).get(call_id)
    return None if record is None else CALL_RECORD.dump(record)


def list_calls(
    engine: sa.Engine,
    filters: CallFilter = NO_FILTER,
    *,
    redact_numbers: bool = False,
    **kwargs: Any,
) -> Page:
    """A page of the list as the API serves it (``.calls``, ``.next_cursor``)."""
    page = CallLog(engine, redact_numbers=redact_numbers).list(filters, **kwargs)
    return Page(**CALL_PAGE.dump(page))


def webhook(
    event: str = "call.completed",
    *,
    created_at: datetime = COMPLETED_AT,
    call_id: str = "call_123",
    **call: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A validated event and the raw body it came from, as the web layer passes them."""
    raw_call = {"id": call_id, **call}
    body = {
        "event": event,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "call": raw_call,
        "variables": {},
        "data": {},
    }
    return {**body, "created_at": created_at, "call": dict(raw_call)}, body


def record_event(
    engine: sa.Engine,
    *,
    event: dict[str, Any],
    body: dict[str, Any],
    webhook_id: str | None,
    received_at: datetime,
    redact_numbers: bool = False,
) -> bool:
    return CallLog(engine, redact_numbers=redact_numbers).record_event(
        event, body, webhook_id=webhook_id, received_at=received_at
    )


def post(
    engine: sa.Engine,
    event: str = "call.completed",
    *,
    webhook_id: str | None = None,
    received_at: datetime = RECEIVED,
    redact_numbers: bool = False,
    **kwargs: Any,
) -> bool:
    validated, body = webhook(event, **kwargs)
    return record_event(
        engine,
        event=validated,
        body=body,
        webhook_id=webhook_id,
        received_at=received_at,
        redact_numbers=redact_numbers,
    )


def iter_records(
    engine: sa.Engine, filters: CallFilter = NO_FILTER, *, redact_numbers: bool = False, **kw: Any
) -> Iterator[dict[str, Any]]:
    """An export's records as the API serves them."""
    for record in CallLog(engine, redact_numbers=redact_numbers).export(filters, **kw):
        yield CALL_RECORD.dump(record)


def count_calls(engine: sa.Engine, filters: CallFilter = NO_FILTER) -> int:
    return CallLog(engine).count(filters)


def prune(engine: sa.Engine, older_than: datetime) -> int:
    return CallLog(engine).prune(older_than)


def use_store(app: Any, engine: sa.Engine) -> sa.Engine:
    """Point ``app``'s call log (which owns the store's engine) at ``engine``, redacting as
    before; returns the old engine."""
    old = app.extensions["toneflow.call_log"]
    app.extensions["toneflow.call_log"] = CallLog(engine, redact_numbers=old.redact_numbers)
    return old.engine


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def run_together(n: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in n threads released at once; return results, re-raise any error."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
