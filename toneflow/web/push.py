"""``POST /push/<platform>/<flow>/<step>``: push a step's digits into a live call.

Bearer token, as ``/api`` (the same check). The body names the platform's call reference
(``schemas.push``); the step is planned first (:mod:`toneflow.push.plan`: rendered,
converted exactly, or a 400 naming the character and its position, before anything is
sent), then sent once (:mod:`toneflow.push.client`) and put on the call's timeline under
the reference (the call id a support person looks up). ``"dry_run": true`` answers with
the requests that would be sent, secrets masked, and sends and records nothing.

Answers: 200 with the push as recorded; 502 ``push_failed`` when the platform did not take
the digits or could not be reached (the body holds the push as recorded too); 503
``platform_not_configured`` naming the unset variables; 400/404 before anything is sent.
A store that fails after the digits went out costs the record (logged in full), never
the answer: a client that saw a 503 might push again, and DTMF twice is worse than once.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json, request
from sqlalchemy.exc import SQLAlchemyError

from schemas.push import BODY_SCHEMAS, PUSH_DRY_RUN, PUSH_FAILED, PUSHED
from toneflow.logs import get_logger
from toneflow.push.client import planned_requests, send, start
from toneflow.push.plan import PLATFORMS, PlanError, UnknownStep, plan_push
from toneflow.push.platforms import PLATFORMS as PLATFORM_ROWS
from toneflow.push.platforms import NotConfigured, settings_for
from toneflow.web.api import require_token
from toneflow.web.errors import ApiError
from toneflow.web.requests import read_json_object
from toneflow.web.state import call_log, flows

bp = Blueprint("push", __name__, url_prefix="/push")
bp.before_request(require_token)
log = get_logger(__name__)


@bp.post("/<platform>/<flow>/<step>")
def push(platform: str, flow: str, step: str) -> Response | dict:
    if platform not in PLATFORMS:
        raise ApiError(
            404, "not_found", f"no push platform named '{platform}' (known: {', '.join(PLATFORMS)})"
        )
    body = BODY_SCHEMAS[platform].load(read_json_object(request))
    names = PLATFORM_ROWS[platform].reference
    reference = {key: body[key] for key in names if body.get(key) is not None}
    call_id = reference[names[0]]
    flow_set = flows()
    compiled = flow_set.get(flow)
    if compiled is None:
        raise ApiError(404, "not_found", f"no flow named '{flow}'")
    try:
        plan = plan_push(
            compiled,
            step,
            platform,
            body["variables"],
            round_up=body["round_up"],
            max_digits=flow_set.max_digits,
        )
    except UnknownStep as err:
        raise ApiError(404, "not_found", str(err)) from err
    except PlanError as err:
        raise ApiError(400, "invalid_request", f"nothing was sent: {err}") from err
    try:
        settings = settings_for(platform, current_app.config)
    except NotConfigured as err:
        raise ApiError(503, "platform_not_configured", str(err)) from err
    if body["dry_run"]:
        return PUSH_DRY_RUN.dump(
            {
                "dry_run": True,
                "call_id": call_id,
                "platform": platform,
                "flow": flow,
                "step": plan.step,
                "sends": start(plan, reference).sends,
                "requests": planned_requests(plan, settings, reference),
            }
        )
    result = send(plan, settings, reference)
    record = result.as_record()
    log.info(
        "push_sent" if result.ok else "push_failed",
        platform=platform,
        call_id=call_id,
        flow=flow,
        step=plan.step,
        requests=len(result.requests),
        duration_ms=result.duration_ms,
        error=result.error,
    )
    try:
        call_log().record_push(call_id, record, seen_at=result.at)
    except SQLAlchemyError as err:
        log.error("push_not_recorded", call_id=call_id, push=PUSHED.dump(record), error=str(err))
    if result.ok:
        return PUSHED.dump({"call_id": call_id, **record})
    failed = {"error": {"code": "push_failed", "message": result.error}, "call_id": call_id}
    payload = PUSH_FAILED.dump({**failed, "push": record})
    return Response(json.dumps(payload), 502, content_type="application/json")
