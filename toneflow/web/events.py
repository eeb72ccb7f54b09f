"""``POST /events/minivoice``: validate, store durably, and only then acknowledge."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import structlog
from flask import Blueprint, Request, Response, request

from schemas.events import EventSchema
from toneflow import metrics
from toneflow.logs import get_logger
from toneflow.web.requests import read_json_object
from toneflow.web.state import call_log, require_signature

bp = Blueprint("events", __name__)
log = get_logger(__name__)
#: One instance for every request: loading keeps no state on the schema.
EVENT_SCHEMA = EventSchema()
#: The two acknowledgements, as Flask's JSON would write them, made once.
REPLIES = {
    stored: json.dumps(
        {"status": "stored" if stored else "duplicate"}, separators=(",", ":")
    ).encode()
    + b"\n"
    for stored in (True, False)
}


@bp.post("/events/minivoice")
def minivoice_event_route() -> Response:
    """The route as Flask dispatches it; the platform lane calls :func:`minivoice_event`."""
    return minivoice_event(request._get_current_object())  # type: ignore[attr-defined]


def minivoice_event(request: Request) -> Response:
    require_signature(request)
    body = read_json_object(request)
    event = EVENT_SCHEMA.load(body)
    webhook_id = request.headers.get("webhook-id")
    structlog.contextvars.bind_contextvars(call_id=event["call"]["id"])
    # record_event commits before returning: the 200 below is never sent for an
    # event that is not on disk. A store failure raises, and the error table answers 503.
    stored = call_log().record_event(
        event, body, webhook_id=webhook_id, received_at=datetime.now(UTC)
    )
    metrics.event_received(stored=stored)
    log.info(
        "event_stored" if stored else "event_duplicate",
        event_name=event["event"],
        webhook_id=webhook_id,
    )
    return Response(REPLIES[stored], 200, content_type="application/json")
