"""What every request passes through before and after its view, in one place.

Flask runs these as its app-wide ``before_request`` and ``after_request`` hooks; the
platform lane (:mod:`toneflow.web.lane`), which serves answer_url and the event webhook
without Flask's dispatch, calls the same two functions. Both read and write only the
WSGI environ, so neither needs Flask's request context.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Any

import structlog
from flask import Flask, Response, current_app, request
from werkzeug.sansio.utils import host_is_trusted

from toneflow.web.errors import ApiError
from toneflow.web.reload import reload_flows

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_ENVIRON = "HTTP_X_REQUEST_ID"
#: Where the request's id is kept for the response (the environ lives as long as both).
REQUEST_ID_KEY = "toneflow.request_id"
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


def begin_request(app: Flask, environ: dict[str, Any]) -> None:
    """Label the request's log lines, refuse a bad ``Host``, reload changed flows (dev).

    BodyLimit, the outermost layer, has already cleared the previous request's context.
    The header is read from the WSGI environ: Werkzeug's header view costs more here.
    """
    request_id = choose_request_id(environ.get(REQUEST_ID_ENVIRON, ""))
    environ[REQUEST_ID_KEY] = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)
    _refuse_a_bad_host(environ)
    if app.debug or app.config["RELOAD"]:
        reload_flows(app)


def end_request(response: Response, environ: dict[str, Any]) -> Response:
    """Echo the request's id, so a platform's report can be matched to our log lines."""
    response.headers[REQUEST_ID_HEADER] = environ.get(REQUEST_ID_KEY, "")
    return response


def _refuse_a_bad_host(environ: dict[str, Any]) -> None:
    """A ``Host`` that is not a host name (with an optional port) is a 400, never a URL.

    Werkzeug's own check (``host_is_trusted``, with no list: only the characters and the
    port) is used; left alone, Werkzeug treats such a host as empty and answers would
    carry redirect URLs like ``http:///answer/…``. Behind trusted proxies this checks
    what ``X-Forwarded-Host`` made of it.
    """
    host = environ.get("HTTP_HOST")
    if host is not None and not host_is_trusted(host):
        raise ApiError(400, "invalid_request", "the Host header is not a valid host name")


def flask_begin() -> None:
    """Flask's app-wide ``before_request`` hook: :func:`begin_request`."""
    begin_request(current_app._get_current_object(), request.environ)  # type: ignore[attr-defined]


def flask_end(response: Response) -> Response:
    """Flask's app-wide ``after_request`` hook: :func:`end_request`."""
    return end_request(response, request.environ)
