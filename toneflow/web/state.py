"""What the app holds for its views: the flow set, the call log, the store engine, the URL.

Each reads the app from Flask's app context, which both Flask's dispatch and the platform
lane (:mod:`toneflow.web.lane`) push; the request, which the lane makes without Flask's
request context, is passed in.

``create_app`` builds each once. The :class:`~toneflow.store.CallLog` (every read and
write of the call log) owns the store's one engine; :func:`store` is that engine, for
sign-in and API tokens, so there is no second copy of it to keep in step.
"""

from __future__ import annotations

from flask import Request, current_app
from sqlalchemy import Engine

from toneflow.flows.registry import FlowSet
from toneflow.signing import environ_answer_content
from toneflow.store import CallLog

FLOWS = "toneflow.flows"
CALL_LOG = "toneflow.call_log"
SIGNATURES = "toneflow.signatures"
#: The store's last known state ("ok", "not_migrated", "unavailable"), per process.
STORE_STATE = "toneflow.store_state"


def flows() -> FlowSet:
    return current_app.extensions[FLOWS]


def store() -> Engine:
    """The store's engine (the call log's): for support users, sessions and API tokens."""
    return current_app.extensions[CALL_LOG].engine


def call_log() -> CallLog:
    """The app's one call log (redacting numbers when ``TONEFLOW_REDACT_NUMBERS=1``)."""
    return current_app.extensions[CALL_LOG]


def public_url(request: Request) -> str:
    """``TONEFLOW_PUBLIC_URL`` when set (behind a proxy), else what the request says."""
    return current_app.config["PUBLIC_URL"] or request.host_url


def require_signature(request: Request, *, answers: bool = False) -> None:
    """Refuse the request (401) unless it is signed, when a webhook secret is configured.

    Events are checked whenever a secret is set, over the raw body (as Standard Webhooks
    senders sign them); answer requests only with ``TONEFLOW_SIGN_ANSWERS=1``, over
    method, path, query string and body, so a signature cannot be replayed with other
    parameters.
    """
    verifier = current_app.extensions.get(SIGNATURES)
    if verifier is None or (answers and not current_app.config["SIGN_ANSWERS"]):
        return
    body = request.get_data(cache=True)
    if answers:
        content = environ_answer_content(request.environ, body)
        verifier.verify(content, request.headers, what="request (method, path, query and body)")
    else:
        verifier.verify(body, request.headers)
