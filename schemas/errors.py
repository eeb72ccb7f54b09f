"""The one error body every endpoint uses: MiniVoice's ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import Schema

ERROR_CODES = (
    "not_found",
    "invalid_request",
    "answer_url_error",
    "unauthorized",
    "payload_too_large",
    "unsupported_media_type",
    "store_unavailable",
)


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, validate=validate.OneOf(ERROR_CODES))
    message = fields.String(required=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)
