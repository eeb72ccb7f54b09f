"""The one error body every endpoint uses (MiniVoice's ``{"error": {"code", "message"}}``),
and the one wording of a validation failure that goes into it."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from schemas.base import Schema

ERROR_CODES = (
    "not_found",
    "invalid_request",
    "answer_url_error",
    "unauthorized",
    "payload_too_large",
    "unsupported_media_type",
    "store_unavailable",
    "platform_not_configured",
    "push_failed",
)


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, validate=validate.OneOf(ERROR_CODES))
    message = fields.String(required=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


def describe_validation(err: ValidationError) -> str:
    """``call.id: Not a valid string.; created_at: Missing data…``: every field named.

    Here, beside the error body, so the API, the support pages and the CLI word a
    validation failure the same way without the CLI importing the web layer.
    """
    parts: list[str] = []

    def walk(messages: Any, path: str) -> None:
        if isinstance(messages, dict):
            for key, inner in messages.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(messages, list):
            for inner in messages:
                walk(inner, path)
        else:
            parts.append(f"{path}: {messages}" if path else str(messages))

    walk(err.messages, "")
    return "; ".join(parts)
