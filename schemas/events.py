"""The MiniVoice webhook (``POST /events/minivoice``).

Platforms add fields over time, so unknown ones are kept (``INCLUDE``), never refused;
only what the call log relies on is required.
"""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import INCLUDE, ValidationError, fields, validate

from schemas.base import Schema
from schemas.fields import CallId, PhoneNumber
from schemas.text import StoredText

DIRECTIONS = ("inbound", "outbound")


def _representable_in_utc(value: datetime) -> None:
    """Year 1 at +01:00 parses, but has no UTC equivalent to store or compare."""
    try:
        value.astimezone(UTC)
    except OverflowError as err:
        raise ValidationError("is out of range") from err


class EventCallSchema(Schema):
    class Meta:
        unknown = INCLUDE

    id = CallId(required=True)
    customer_id = StoredText(allow_none=True)
    application_id = StoredText(allow_none=True)
    status = StoredText(allow_none=True)
    direction = StoredText(allow_none=True, validate=validate.OneOf(DIRECTIONS))
    from_ = PhoneNumber(data_key="from", attribute="from", allow_none=True)
    to = PhoneNumber(allow_none=True)


class EventSchema(Schema):
    class Meta:
        unknown = INCLUDE

    event = StoredText(required=True, validate=validate.Length(1, 128))
    created_at = fields.AwareDateTime(
        required=True, default_timezone=UTC, validate=_representable_in_utc
    )
    call = fields.Nested(EventCallSchema, required=True)
    # Some platforms send null for an empty object; it is kept as sent.
    variables = fields.Dict(load_default=dict, allow_none=True)
    data = fields.Dict(load_default=dict, allow_none=True)
