"""``/answer/<dialect>/<flow>[/<step>]``: parse, answer, log, record, return.

The answer is served even when the call log cannot be written: the platform is waiting
with a caller in silence. The lost record is then logged in full (``store_write_failed``)
so nothing is lost for good (masked as the store would have kept it, when redacting).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import structlog
from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from schemas.answer import AnswerRequestSchema, normalise
from toneflow import answer as engine
from toneflow import metrics
from toneflow.logs import get_logger
from toneflow.redact import mask_text, numbers_in
from toneflow.store import ServedAnswer, record_answer
from toneflow.store.calls import loggable_answer
from toneflow.web.errors import error_body
from toneflow.web.requests import read_answer_input
from toneflow.web.state import flows, public_url, require_signature, store

bp = Blueprint("answer", __name__)
log = get_logger(__name__)
#: One instance for every request: loading keeps no state on the schema.
REQUEST_SCHEMA = AnswerRequestSchema()
DIALECT_RULE = "any(" + ", ".join(engine.DIALECTS) + ")"
#: Flask also serves HEAD for these routes (same headers, no body); a HEAD is a probe, not
#: a step of the call, so it is answered but never written to the call log.
RECORDED_METHODS = ("GET", "POST")


@bp.route(f"/answer/<{DIALECT_RULE}:dialect>/<flow>", methods=["GET", "POST"])
@bp.route(f"/answer/<{DIALECT_RULE}:dialect>/<flow>/<step>", methods=["GET", "POST"])
def serve(dialect: str, flow: str, step: str | None = None) -> Response:
    started = time.perf_counter()
    require_signature(answers=True)
    params, body = read_answer_input(request)
    answer_request = REQUEST_SCHEMA.load(normalise(params, body))
    structlog.contextvars.bind_contextvars(call_id=answer_request.call_id, flow=flow)
    try:
        served = engine.answer(flows(), flow, step, dialect, answer_request, public_url())
    except engine.AnswerFailed as failed:
        metrics.answer_failed(dialect)
        # The error table answers the 500; the call's timeline must show it too.
        if _recorded(answer_request):
            _record_failure(answer_request, dialect, flow, failed, started)
        raise
    seconds = time.perf_counter() - started
    metrics.answer_served(dialect, seconds, fell_back=served.fallback_from is not None)
    duration_ms = round(seconds * 1000, 3)
    structlog.contextvars.bind_contextvars(step=served.step)
    body_text = served.body.decode("utf-8")
    log.info(
        "answer_served",
        dialect=dialect,
        flow_version=served.flow.version,
        body=_loggable_body(answer_request, body_text),
        duration_ms=duration_ms,
        fallback_from=served.fallback_from,
        fallback_reason=served.fallback_reason,
    )
    if _recorded(answer_request):
        _record(answer_request, served, body_text, duration_ms)
    return Response(served.body, 200, content_type=served.content_type)


def _recorded(answer_request: engine.AnswerRequest) -> bool:
    """Whether this answer goes on the call's timeline: a call id, and GET or POST."""
    return answer_request.call_id is not None and request.method in RECORDED_METHODS


def _record(
    answer_request: engine.AnswerRequest, served: engine.Answer, body_text: str, duration_ms: float
) -> None:
    _write(
        answer_request,
        dialect=served.dialect,
        flow=served.flow.name,
        flow_version=served.flow.version,
        step=served.step,
        terminal=served.terminal,
        body=body_text,
        duration_ms=duration_ms,
        fallback_from=served.fallback_from,
        fallback_reason=served.fallback_reason,
    )


def _record_failure(
    answer_request: engine.AnswerRequest,
    dialect: str,
    flow_name: str,
    failed: engine.AnswerFailed,
    started: float,
) -> None:
    """Put a 500 on the call's timeline: the step that failed, why, and the error body."""
    _write(
        answer_request,
        dialect=dialect,
        flow=flow_name,
        flow_version=flows().flows[flow_name].version,
        step=failed.failure.step,
        terminal=False,
        body=error_body("answer_url_error", str(failed)).decode("utf-8"),
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        error_reason=failed.failure.reason,
    )


def _write(answer_request: engine.AnswerRequest, **fields: Any) -> None:
    call = answer_request.call
    record = ServedAnswer(
        call_id=call["id"],
        from_number=call.get("from"),
        to_number=call.get("to"),
        direction=call.get("direction"),
        customer_id=call.get("customer_id"),
        application_id=call.get("application_id"),
        at=datetime.now(UTC),
        request=answer_request.as_dict(),
        **fields,
    )
    redact = current_app.config["REDACT_NUMBERS"]
    try:
        record_answer(store(), record, redact_numbers=redact)
    except SQLAlchemyError as err:
        # The store masks what it binds, so the statement's parameters in ``err`` are too.
        record_fields = loggable_answer(record, redact_numbers=redact)
        log.error("store_write_failed", error=str(err), record=record_fields)


def _loggable_body(answer_request: engine.AnswerRequest, body: str) -> str:
    """The body for the log line: the caller's numbers masked in it when redacting."""
    if not current_app.config["REDACT_NUMBERS"]:
        return body
    return mask_text(body, numbers_in(answer_request.as_dict()))
