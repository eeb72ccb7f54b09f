"""The call log's wire contracts: list query arguments, and the record and page shapes.

``CallListArgsSchema`` validates ``GET /api/calls`` (and the support page's filter
form) and builds a :class:`~toneflow.listing.CallFilter`; ``CallLookupArgsSchema``
validates ``GET /api/call?id=``. The others are the one record shape: the API, the
support pages and ``toneflow calls show --json`` dump the store's plain records through
them (:data:`CALL_RECORD`, :data:`CALL_PAGE`), and ``/openapi.json`` publishes them, so
what is served and what is described cannot differ. The record is the contract's
``GET /api/calls/<call_id>`` shape, keys in the contract's order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import fields, post_load, validate

from schemas.base import Schema
from schemas.events import _representable_in_utc
from schemas.fields import CALL_ID_MAX
from schemas.text import StoredText
from toneflow.listing import DEFAULT_LIMIT, MAX_LIMIT, CallFilter
from toneflow.outcome import OUTCOME_KINDS

NAME = validate.Length(1, 128)


class CallLookupArgsSchema(Schema):
    """Query arguments of ``/api/call``: just the call id, for ids a path cannot carry."""

    id = StoredText(
        required=True,
        validate=validate.Length(1, CALL_ID_MAX),
        metadata={"description": "the call id, exactly as the platform sent it"},
    )


def instant_arg(description: str) -> fields.AwareDateTime:
    """A time argument (ISO 8601; UTC when no offset is given), for lists and funnels."""
    return fields.AwareDateTime(
        default_timezone=UTC, validate=_representable_in_utc, metadata={"description": description}
    )


class CallListArgsSchema(Schema):
    """Query arguments of the call list; every one optional, all combined with AND."""

    status = StoredText(validate=NAME, metadata={"description": "final or latest call status"})
    outcome = fields.String(validate=validate.OneOf(OUTCOME_KINDS))
    flow = StoredText(validate=NAME)
    last_step = StoredText(validate=NAME)
    since = instant_arg("first seen at or after (ISO 8601)")
    until = instant_arg("first seen before (ISO 8601)")
    q = StoredText(
        validate=NAME, metadata={"description": "a call id or a from/to number, exactly"}
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT), strict=False
    )
    cursor = fields.String(
        validate=validate.Length(1, 512),
        metadata={"description": "the next_cursor of the previous page"},
    )

    @post_load
    def _split(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """``{"filters": CallFilter, "limit": int, "cursor": str | None}``."""
        limit = data.pop("limit")
        cursor = data.pop("cursor", None)
        return {"filters": CallFilter(**data), "limit": limit, "cursor": cursor}


class Instant(fields.DateTime):
    """A time in the contract's one spelling: ISO 8601 in UTC with a ``Z``.

    ``2026-05-29T12:10:00.123000Z``: the store hands back aware datetimes, and this is
    the only place that writes them for the wire.
    """

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class OutcomeSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(OUTCOME_KINDS))
    step = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)


class CallSummarySchema(Schema):
    """One call as a list shows it: the record without its timeline."""

    call_id = fields.String(required=True)
    flow = fields.String(required=True, allow_none=True)
    dialect = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, allow_none=True)
    direction = fields.String(required=True, allow_none=True)
    from_ = fields.String(data_key="from", attribute="from_number", required=True, allow_none=True)
    to = fields.String(attribute="to_number", required=True, allow_none=True)
    customer_id = fields.String(required=True, allow_none=True)
    application_id = fields.String(required=True, allow_none=True)
    first_seen = Instant(required=True)
    last_seen = Instant(required=True)
    completed_at = Instant(required=True, allow_none=True)
    last_step = fields.String(required=True, allow_none=True)
    flow_version = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "content hash of the flow version that served the first step"},
    )
    outcome = fields.Nested(OutcomeSchema, required=True)


class SwitchDecisionSchema(Schema):
    """One switch decided at serve time."""

    step = fields.String(required=True, metadata={"description": "the switch step"})
    value = fields.String(required=True, metadata={"description": "the value it rendered"})
    case = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the case that matched; null: it went to default"},
    )
    to = fields.String(required=True, metadata={"description": "the step it chose"})


class DecisionSchema(Schema):
    """What toneflow decided for an answer, recorded when it was served."""

    steps = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "every step the request passed through, in order: switches, a "
            "step that failed (on a fallback), the step served"
        },
    )
    switches = fields.List(fields.Nested(SwitchDecisionSchema), required=True)
    awaits_digits_ms = fields.Integer(
        required=True,
        allow_none=True,
        dump_default=None,
        metadata={"description": "the served step's collect_digits timeout, if it has one"},
    )
    transfer_to = fields.String(
        required=True,
        allow_none=True,
        dump_default=None,
        metadata={"description": "where the served step transferred the call, if it did"},
    )


class AnswerEntrySchema(Schema):
    """One answer on a call's timeline: what was asked, and exactly what was sent."""

    at = Instant(required=True)
    dialect = fields.String(required=True)
    flow = fields.String(required=True)
    flow_version = fields.String(
        required=True, metadata={"description": "content hash of the flow file that served it"}
    )
    step = fields.String(required=True)
    request = fields.Dict(required=True, metadata={"description": "the normalised request"})
    body = fields.String(required=True, metadata={"description": "the exact body sent"})
    duration_ms = fields.Float(required=True)
    fallback_from = fields.String(required=True, allow_none=True)
    fallback_reason = fields.String(required=True, allow_none=True)
    status = fields.Integer(required=True, metadata={"description": "HTTP status sent"})
    error_reason = fields.String(required=True, allow_none=True)
    decision = fields.Nested(
        DecisionSchema,
        required=True,
        allow_none=True,
        metadata={"description": "null for answers recorded before decisions were"},
    )


class EventEntrySchema(Schema):
    received_at = Instant(required=True)
    webhook_id = fields.String(required=True, allow_none=True)
    event = fields.String(required=True)
    created_at = Instant(required=True)
    future_dated = fields.Boolean(
        required=True,
        metadata={
            "description": "created_at is more than 5 minutes after received_at: the call "
            "orders this event by its receipt time instead"
        },
    )
    body = fields.Dict(required=True, metadata={"description": "the webhook as received"})


class VerificationEntrySchema(Schema):
    """A call recording checked against what was served (``toneflow calls verify --attach``)."""

    at = Instant(required=True, metadata={"description": "when the recording was checked"})
    recording = fields.String(required=True, metadata={"description": "the file's name"})
    served = fields.String(
        required=True, metadata={"description": "every key served on the call, in order"}
    )
    heard = fields.String(
        required=True, metadata={"description": "every key heard in the recording, in order"}
    )
    matched = fields.Boolean(
        required=True,
        metadata={"description": "the same keys in order, each send's keys in time"},
    )
    difference = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the first difference, in words; null when matched"},
    )


class CallRecordSchema(CallSummarySchema):
    """One call's record and timeline (``GET /api/calls/<call_id>``)."""

    duration_s = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "the call's duration as its call.completed event gives it"},
    )
    hangup_cause = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the hangup cause its call.completed event gives"},
    )

    answers = fields.List(fields.Nested(AnswerEntrySchema), required=True)
    events = fields.List(fields.Nested(EventEntrySchema), required=True)
    verifications = fields.List(fields.Nested(VerificationEntrySchema), required=True)


class CallPageSchema(Schema):
    """A page of the call list, newest first."""

    calls = fields.List(fields.Nested(CallSummarySchema), required=True)
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )


#: The dumpers every reader of the call log uses (dumping keeps no state on a schema).
CALL_RECORD = CallRecordSchema()
CALL_SUMMARY = CallSummarySchema()
CALL_PAGE = CallPageSchema()
