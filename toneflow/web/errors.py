"""One error shape for every endpoint, and one table that maps failures onto it.

Views never build error bodies: they raise, and these handlers answer with MiniVoice's
``{"error": {"code", "message"}}``. A client mistake is never a 500.
"""

from __future__ import annotations

import json

from flask import Flask, Response
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from schemas.errors import ErrorSchema, describe_validation
from toneflow.answer import AnswerFailed, NotFound
from toneflow.logs import get_logger
from toneflow.signing import SignatureError

log = get_logger(__name__)

#: HTTP status → the contract's error code, for errors Werkzeug raises itself.
CODES_BY_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "invalid_request",
    413: "payload_too_large",
    415: "unsupported_media_type",
    503: "store_unavailable",
}
RETRY_AFTER_SECONDS = "5"


class ApiError(Exception):
    """An error with a contract code, raised by views and request parsing."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers


def error_body(code: str, message: str) -> bytes:
    """The error shape as bytes; usable outside a request (the body-limit middleware)."""
    body = ErrorSchema().dump({"error": {"code": code, "message": message}})
    return json.dumps(body).encode("utf-8")


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(error_body(code, message), status, headers, content_type="application/json")


def _api_error(err: ApiError) -> Response:
    return error_response(err.status, err.code, err.message, err.headers)


def _unsigned(err: SignatureError) -> Response:
    log.warning("signature_refused", reason=str(err))
    return error_response(401, "unauthorized", f"webhook signature: {err}")


def _invalid(err: ValidationError) -> Response:
    return error_response(400, "invalid_request", describe_validation(err))


def _not_found(err: NotFound) -> Response:
    return error_response(404, "not_found", str(err))


def _answer_failed(err: AnswerFailed) -> Response:
    log.error("answer_failed", step=err.failure.step, reason=err.failure.reason, detail=str(err))
    return error_response(500, "answer_url_error", str(err))


def _store_unavailable(err: SQLAlchemyError) -> Response:
    log.error("store_unavailable", error=str(err))
    return error_response(
        503,
        "store_unavailable",
        "the call log store is unavailable; retry later",
        {"Retry-After": RETRY_AFTER_SECONDS},
    )


def _http(err: HTTPException) -> Response:
    status = err.code or 500
    code = CODES_BY_STATUS.get(status, "invalid_request" if status < 500 else "answer_url_error")
    response = error_response(status, code, err.description or err.name)
    if status == 405 and err.get_headers():
        response.headers.update({k: v for k, v in err.get_headers() if k == "Allow"})
    return response


def _unexpected(err: Exception) -> Response:
    log.exception("unhandled_error")
    return error_response(500, "answer_url_error", "internal error")


#: The table: an exception is answered by the entry of the nearest class in its MRO.
HANDLERS = {
    ApiError: _api_error,
    SignatureError: _unsigned,
    ValidationError: _invalid,
    NotFound: _not_found,
    AnswerFailed: _answer_failed,
    SQLAlchemyError: _store_unavailable,
    HTTPException: _http,
    Exception: _unexpected,
}


def response_for(err: Exception) -> Response:
    """The table's answer to ``err``, chosen as Flask chooses a registered handler.

    Flask looks handlers up along the exception's MRO (and by status code first, for
    which none is registered here); the platform lane (:mod:`toneflow.web.lane`) answers
    its errors with this, so both paths give one answer to one failure.
    """
    for cls in type(err).__mro__:
        handler = HANDLERS.get(cls)
        if handler is not None:
            return handler(err)
    raise err  # not an Exception: nothing answers it, in Flask either


def register_error_handlers(app: Flask) -> None:
    for cls, handler in HANDLERS.items():
        app.register_error_handler(cls, handler)
