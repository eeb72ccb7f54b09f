"""``/answer/<dialect>/<flow>[/<step>]``: parse, answer, record, log, return.

The answer is served even when the call log cannot be written: the platform is waiting
with a caller in silence. The lost record is then logged in full (``store_write_failed``)
so nothing is lost for good (masked as the store would have kept it, when redacting).
The one exception: a later step of a call whose flow version this process cannot know
without the store gets ``503``, never another version (:mod:`toneflow.web.pinning`).
The write comes before the log line because it says which version the call is on.
``answering`` is the pure answer module; ``engine`` means only the SQLAlchemy engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from flask import Blueprint, Request, Response, request

from schemas.answer import AnswerRequestSchema, normalise
from toneflow import answer as answering
from toneflow import metrics
from toneflow.flows.model import Flow
from toneflow.flows.registry import FlowSet
from toneflow.logs import get_logger
from toneflow.request import AnswerRequest
from toneflow.store import AnswerNotRecorded
from toneflow.store.ingest import PinnedElsewhere
from toneflow.web import pinning
from toneflow.web.errors import error_body
from toneflow.web.requests import read_answer_input
from toneflow.web.state import call_log, public_url, require_signature

bp = Blueprint("answer", __name__)
log = get_logger(__name__)
#: One instance for every request: loading keeps no state on the schema.
REQUEST_SCHEMA = AnswerRequestSchema()
DIALECT_RULE = "any(" + ", ".join(answering.DIALECTS) + ")"
#: Flask also serves HEAD for these routes (same headers, no body); a HEAD is a probe, not
#: a step of the call, so it is answered but never written to the call log.
RECORDED_METHODS = ("GET", "POST")


@bp.route(f"/answer/<{DIALECT_RULE}:dialect>/<flow>", methods=["GET", "POST"])
@bp.route(f"/answer/<{DIALECT_RULE}:dialect>/<flow>/<step>", methods=["GET", "POST"])
def serve_route(dialect: str, flow: str, step: str | None = None) -> Response:
    """The route as Flask dispatches it; the platform lane calls :func:`serve` itself."""
    return serve(request._get_current_object(), dialect, flow, step)  # type: ignore[attr-defined]


def serve(request: Request, dialect: str, flow: str, step: str | None = None) -> Response:
    started = time.perf_counter()
    require_signature(request, answers=True)
    params, body = read_answer_input(request)
    answer_request = REQUEST_SCHEMA.load(normalise(params, body))
    structlog.contextvars.bind_contextvars(call_id=answer_request.call_id, flow=flow)
    recorded = answer_request.call_id is not None and request.method in RECORDED_METHODS
    flow_set = pinning.flow_set_for(answer_request.call_id if recorded else None, flow)
    base_url = public_url(request)
    try:
        return _serve(flow_set, dialect, flow, step, answer_request, base_url, started, recorded)
    except PinnedElsewhere as pinned:
        # The call started on another version: that version serves it (once more at most).
        flow_set = pinning.pinned_set(flow, pinned.version)
        return _serve(flow_set, dialect, flow, step, answer_request, base_url, started, recorded)


def _serve(
    flow_set: FlowSet,
    dialect: str,
    flow: str,
    step: str | None,
    answer_request: AnswerRequest,
    base_url: str,
    started: float,
    recorded: bool,
) -> Response:
    """Answer from ``flow_set`` and record it (:class:`PinnedElsewhere`: nothing written)."""
    try:
        served = answering.answer(flow_set, flow, step, dialect, answer_request, base_url)
    except answering.NotFound:
        if recorded:
            current = flow_set.get(flow)
            pinning.check_missing_step(
                answer_request.call_id, flow, None if current is None else current.version
            )
        raise
    except answering.AnswerFailed as failed:
        # The error table answers the 500; the call's timeline must show it too.
        if recorded:
            _record_failure(answer_request, dialect, flow_set.flows[flow], failed, started)
        metrics.answer_failed(dialect)
        raise
    seconds = time.perf_counter() - started
    duration_ms = round(seconds * 1000, 3)
    if recorded:
        _record(answer_request, served, duration_ms, step)
    metrics.answer_served(dialect, seconds, fell_back=served.fallback_from is not None)
    structlog.contextvars.bind_contextvars(step=served.step)
    body_text = served.body.decode("utf-8")
    log.info(
        "answer_served",
        dialect=dialect,
        flow_version=served.flow.version,
        body=call_log().loggable_body(answer_request, body_text),
        duration_ms=duration_ms,
        fallback_from=served.fallback_from,
        fallback_reason=served.fallback_reason,
    )
    return Response(served.body, 200, content_type=served.content_type)


def _record(
    answer_request: AnswerRequest,
    served: answering.Answer,
    duration_ms: float,
    requested_step: str | None,
) -> None:
    """Record the answer; when the store cannot say which version the call is pinned to,
    serve only what is safe (:mod:`toneflow.web.pinning`)."""
    call_id, flow = answer_request.call_id, served.flow.name
    lost = _logged_if_lost(
        call_log().record_answer,
        answer_request,
        served,
        at=datetime.now(UTC),
        duration_ms=duration_ms,
        requested_step=requested_step,
    )
    if not lost:
        pinning.remember(call_id, flow, served.flow.version)
    elif requested_step is not None and pinning.known(call_id, flow) != served.flow.version:
        log.error("answer_refused_version_unknown", version=served.flow.version)
        raise pinning.StoreUnavailable(
            f"the version of flow '{flow}' call '{call_id}' started on cannot be known: "
            "the store is unavailable"
        )


def _record_failure(
    answer_request: AnswerRequest,
    dialect: str,
    flow: Flow,
    failed: answering.AnswerFailed,
    started: float,
) -> None:
    """Put a 500 on the call's timeline: the step that failed, why, and the error body."""
    _logged_if_lost(
        call_log().record_failure,
        answer_request,
        failed,
        flow=flow,
        dialect=dialect,
        body=error_body("answer_url_error", str(failed)).decode("utf-8"),
        at=datetime.now(UTC),
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )


def _logged_if_lost(write: Callable[..., None], *args: Any, **kwargs: Any) -> bool:
    """Write to the call log; if the store fails, log the whole record instead (True)."""
    try:
        write(*args, **kwargs)
    except AnswerNotRecorded as lost:
        log.error("store_write_failed", error=str(lost), record=lost.record)
        return True
    return False
