"""``/api/calls`` and ``/api/calls/<call_id>``: the call log as JSON, for API tokens only.

A call id may hold ``/`` (``/api/calls/x/y`` and ``/api/calls/x%2Fy`` both find ``x/y``);
``/api/call?id=<id>`` finds any id, even one a path cannot carry (``..``, ``a//b``).

Every request needs ``Authorization: Bearer <token>`` with a token made by
``toneflow tokens create NAME``; anything else is a 401 in the contract's error shape,
with ``WWW-Authenticate: Bearer`` saying what is expected.

Responses are the call log's plain records dumped by the schemas ``/openapi.json``
publishes (``schemas.calls``): the JSON served is the JSON described.
"""

from __future__ import annotations

from flask import Blueprint, request

from schemas.calls import CALL_PAGE, CALL_RECORD, CallListArgsSchema, CallLookupArgsSchema
from toneflow.logs import get_logger
from toneflow.store import InvalidCursor
from toneflow.store.access import check_token
from toneflow.web.errors import ApiError
from toneflow.web.state import call_log, store

bp = Blueprint("api", __name__, url_prefix="/api")
log = get_logger(__name__)
LIST_ARGS = CallListArgsSchema()
LOOKUP_ARGS = CallLookupArgsSchema()


class Unauthorized(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


@bp.before_request
def require_token() -> None:
    """Refuse (401) a request without a valid API token (``/api`` and ``/push``)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("an API token is required: 'Authorization: Bearer <token>'")
    name = check_token(store(), token.strip())
    if name is None:
        log.warning("api_token_refused")
        raise Unauthorized("the API token is not valid")
    log.info("api_token_used", token_name=name)


@bp.get("/calls")
def call_list() -> dict:
    args = LIST_ARGS.load(request.args.to_dict())
    try:
        page = call_log().list(args["filters"], limit=args["limit"], cursor=args["cursor"])
    except InvalidCursor as err:
        raise ApiError(400, "invalid_request", f"cursor: {err}") from err
    return CALL_PAGE.dump(page)


@bp.get("/calls/<path:call_id>")
def call_detail(call_id: str) -> dict:
    return _record(call_id)


@bp.get("/call")
def call_by_query() -> dict:
    """``/api/call?id=…``: the same record, for any call id."""
    return _record(LOOKUP_ARGS.load(request.args.to_dict())["id"])


def _record(call_id: str) -> dict:
    record = call_log().get(call_id)
    if record is None:
        raise ApiError(404, "not_found", f"no call with id '{call_id}'")
    return CALL_RECORD.dump(record)
