"""The request body limit, enforced for chunked bodies too.

Werkzeug checks a declared ``Content-Length`` against ``MAX_CONTENT_LENGTH``, but a
chunked body (no length; gunicorn sets ``wsgi.input_terminated``) is only wrapped in a
stream that stops reading at the limit: the view then sees a silently *truncated* body.
This middleware reads such a body up to one byte past the limit first: over it, the
client gets 413; within it, the rest of the app sees an ordinary body with a length.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

import structlog

from toneflow.web.errors import error_body

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyLimit:
    def __init__(self, app: WsgiApp, max_bytes: int, request_id: Callable[[str], str]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.request_id = request_id

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        # The worker thread still holds the previous request's log context (gunicorn's
        # access line needs it after the response); it must not label this request.
        structlog.contextvars.clear_contextvars()
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.app(environ, start_response)  # Werkzeug checks a declared length
        body = environ["wsgi.input"].read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            request_id = self.request_id(environ.get("HTTP_X_REQUEST_ID", ""))
            structlog.contextvars.bind_contextvars(request_id=request_id)
            payload = error_body(
                "payload_too_large", f"the request body is larger than {self.max_bytes} bytes"
            )
            start_response(
                "413 Request Entity Too Large",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(payload))),
                    ("Connection", "close"),
                    ("X-Request-ID", request_id),
                ],
            )
            return [payload]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("wsgi.input_terminated", None)
        return self.app(environ, start_response)
