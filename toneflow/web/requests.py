"""Reading request bodies safely: content type, size, JSON shape.

The body limit (``TONEFLOW_MAX_BODY_BYTES``) is Flask's ``MAX_CONTENT_LENGTH``; Werkzeug
applies it to a declared ``Content-Length`` and, as a limited stream, to chunked bodies.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Request

from toneflow.web.errors import ApiError

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_json(request: Request) -> bool:
    return request.mimetype == "application/json" or request.mimetype.endswith("+json")


def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or a 400/413/415 that says what is wrong."""
    if not is_json(request):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"expected Content-Type application/json, got '{request.mimetype or 'none'}'",
        )
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as err:
        raise ApiError(400, "invalid_request", f"the body is not UTF-8: {err}") from err
    except json.JSONDecodeError as err:
        raise ApiError(
            400,
            "invalid_request",
            f"malformed JSON: {err.msg} at line {err.lineno} column {err.colno}",
        ) from err
    except RecursionError as err:
        raise ApiError(400, "invalid_request", "malformed JSON: nested too deeply") from err
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "the JSON body must be an object")
    return data


def read_answer_input(request: Request) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Query and form parameters, and the JSON body if any, of an answer request."""
    params = request.args.to_dict()
    body = None
    if request.method == "POST" and (
        request.content_length or request.mimetype or request.headers.get("Transfer-Encoding")
    ):
        if is_json(request):
            body = read_json_object(request)
        elif request.mimetype in FORM_TYPES:
            params.update(request.form.to_dict())
        elif request.get_data(cache=True):
            raise ApiError(
                415,
                "unsupported_media_type",
                f"answer requests are GET, or POST as application/json or "
                f"application/x-www-form-urlencoded; got '{request.mimetype or 'none'}'",
            )
    return params, body
