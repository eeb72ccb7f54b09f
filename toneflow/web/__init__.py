"""The HTTP shell: blueprints, the error table, and per-request log context."""

from __future__ import annotations

import itertools
import os
import re

import structlog
from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.utils import host_is_trusted

# flow_versions, funnel, push, support_export and support_flows add their routes to the api,
# push and support blueprints.
from toneflow.web import (  # noqa: F401
    answer,
    api,
    events,
    flow_versions,
    funnel,
    health,
    metrics,
    openapi,
    pinning,
    push,
    reload,
    support,
    support_export,
    support_flows,
)
from toneflow.web.errors import ApiError, register_error_handlers
from toneflow.web.limits import BodyLimit

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_ENVIRON = "HTTP_X_REQUEST_ID"
#: A caller-supplied request id is kept only if it is short and plain.
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIds:
    """Fresh request ids without a system call per request: 32 hex digits, as uuid4's were.

    The first 16 are random (64 bits from ``os.urandom``), drawn once per process and again
    in every forked child (gunicorn's workers fork from the master that imported this), so
    two workers never share them; the last 16 count that process's requests. ``uuid4``
    read ``os.urandom`` (a ``getrandom`` call) for every request.
    """

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.prefix = os.urandom(8).hex()
        # next() on itertools.count is one C call: atomic between gthread's threads.
        self.counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


new_request_id = RequestIds()
os.register_at_fork(after_in_child=new_request_id.reseed)


def choose_request_id(given: str) -> str:
    """The caller's request id if it is safe to echo and log, else a fresh one."""
    return given if given and SAFE_REQUEST_ID.match(given) else new_request_id()


def _bind_request_context() -> None:
    # BodyLimit, the outermost layer, has already cleared the previous request's context.
    # The header is read from the WSGI environ: Werkzeug's header view costs more here.
    request_id = choose_request_id(request.environ.get(REQUEST_ID_ENVIRON, ""))
    g.request_id = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)


def _refuse_a_bad_host() -> None:
    """A ``Host`` that is not a host name (with an optional port) is a 400, never a URL.

    Werkzeug's own check (``host_is_trusted``, with no list: only the characters and the
    port) is used; left alone, Werkzeug treats such a host as empty and answers would
    carry redirect URLs like ``http:///answer/…``. Behind trusted proxies this checks
    what ``X-Forwarded-Host`` made of it.
    """
    host = request.environ.get("HTTP_HOST")
    if host is not None and not host_is_trusted(host):
        raise ApiError(400, "invalid_request", "the Host header is not a valid host name")


def _send_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_bind_request_context)
    app.before_request(_refuse_a_bad_host)
    app.after_request(_send_request_id)
    reload.init_app(app)
    pinning.init_app(app)
    for blueprint in (answer.bp, events.bp, api.bp, health.bp, metrics.bp, openapi.bp, push.bp):
        app.register_blueprint(blueprint)
    support.init_app(app)
    register_error_handlers(app)
    hops = app.config["PROXY_HOPS"]
    if hops:
        # Only headers set by the configured number of proxies count; with none, a
        # client's X-Forwarded-* headers are ignored (gunicorn.conf.py ignores them too).
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.wsgi_app = BodyLimit(
        app.wsgi_app, app.config["MAX_CONTENT_LENGTH"], request_id=choose_request_id
    )
