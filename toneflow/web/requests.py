"""Reading request bodies safely: content type, size, JSON shape.

The body limit (``TONEFLOW_MAX_BODY_BYTES``) is Flask's ``MAX_CONTENT_LENGTH``; Werkzeug
applies it to a declared ``Content-Length`` and, as a limited stream, to chunked bodies.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Request

from toneflow.web.errors import ApiError

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: Deeper JSON parses, but fails later, deep in the stack, when it is stored or echoed.
MAX_JSON_DEPTH = 100


def _refuse_constant(name: str) -> float:
    # Python's json module accepts NaN and Infinity, which JSON (RFC 8259) does not, and
    # which PostgreSQL's json type refuses: stored, they would fail the write as a 503.
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:32]} is out of range")
    return value


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError as err:  # beyond Python's integer-to-text digit limit
        raise ValueError(f"the number {text[:32]}... has too many digits") from err


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
        data = json.loads(
            raw,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_whole_number,
        )
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
    except ValueError as err:  # NaN, Infinity, a number out of range or too many digits
        raise ApiError(400, "invalid_request", f"malformed JSON: {err}") from err
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "the JSON body must be an object")
    problem = _unstorable(data)
    if problem:
        raise ApiError(400, "invalid_request", f"malformed JSON: {problem}")
    return data


def _unstorable(data: Any) -> str | None:
    """Why parsed JSON cannot be stored and sent back as it came, or None if it can."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"nested more than {MAX_JSON_DEPTH} levels deep"
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "a string holds a lone UTF-16 surrogate, which is not text"
    return None


def read_answer_input(request: Request) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Query and form parameters, and the JSON body if any, of an answer request.

    As they came: :func:`schemas.answer.normalise` makes the one request shape of them.
    """
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
