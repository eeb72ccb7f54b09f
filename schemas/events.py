"""The MiniVoice webhook (``POST /events/minivoice``).

Platforms add fields over time, so unknown ones are kept (``INCLUDE``), never refused;
only what the call log relies on is required.
"""

from __future__ import annotations

from datetime import UTC

from marshmallow import INCLUDE, fields, validate

from schemas.base import Schema

DIRECTIONS = ("inbound", "outbound")


class EventCallSchema(Schema):
    class Meta:
        unknown = INCLUDE

    id = fields.String(required=True, validate=validate.Length(1, 128))
    customer_id = fields.String(allow_none=True)
    application_id = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    direction = fields.String(allow_none=True, validate=validate.OneOf(DIRECTIONS))
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(allow_none=True)


class EventSchema(Schema):
    class Meta:
        unknown = INCLUDE

    event = fields.String(required=True, validate=validate.Length(1, 128))
    created_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    call = fields.Nested(EventCallSchema, required=True)
    variables = fields.Dict(load_default=dict)
    data = fields.Dict(load_default=dict)
