"""The funnel's wire contracts: its query arguments and the funnel it answers.

``FunnelArgsSchema`` validates ``GET /api/flows/<flow>/funnel`` (and the flow page's
form, and ``toneflow calls funnel``'s options); ``FunnelSchema`` dumps the store's funnel
for all three, and ``/openapi.json`` publishes both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import fields, post_load, validate

from schemas.base import Schema
from schemas.calls import Instant, instant_arg
from schemas.text import StoredText
from toneflow.funnel import window


class FunnelArgsSchema(Schema):
    """Query arguments of a funnel; the window defaults to the 30 days before now."""

    since = instant_arg("calls first seen at or after (ISO 8601); default: until - 30 days")
    until = instant_arg("calls first seen before (ISO 8601); default: now")
    version = StoredText(
        validate=validate.Length(1, 128),
        metadata={"description": "only calls served by this flow version (its content hash)"},
    )

    @post_load
    def _window(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """``{"since", "until", "version"}``, the window's ends filled in."""
        since, until = window(data.get("since"), data.get("until"), now=datetime.now(UTC))
        return {"since": since, "until": until, "version": data.get("version")}


class FunnelEdgeSchema(Schema):
    to = fields.String(required=True, metadata={"description": "the step calls went on to"})
    fallback = fields.Boolean(
        required=True, metadata={"description": "entered as the flow's fallback"}
    )
    calls = fields.Integer(required=True, metadata={"description": "calls that went along it"})
    share = fields.Float(
        required=True, metadata={"description": "calls / the calls that reached the step"}
    )


class FunnelStepSchema(Schema):
    step = fields.String(required=True)
    reached = fields.Integer(required=True, metadata={"description": "calls that reached it"})
    ended = fields.Integer(required=True, metadata={"description": "calls whose last step it was"})
    ended_by_outcome = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "those calls by outcome kind"},
    )
    edges = fields.List(fields.Nested(FunnelEdgeSchema), required=True)


class FunnelSchema(Schema):
    """Where a flow's calls went and ended, per step, over a window."""

    flow = fields.String(required=True)
    since = Instant(required=True)
    until = Instant(required=True)
    version = fields.String(required=True, allow_none=True)
    calls = fields.Integer(required=True, metadata={"description": "calls in the window"})
    truncated = fields.Integer(
        required=True,
        metadata={
            "description": "calls with a path too long to keep whole (over 2000 "
            "characters of step names), counted as far as it was kept"
        },
    )
    steps = fields.List(fields.Nested(FunnelStepSchema), required=True)


FUNNEL_ARGS = FunnelArgsSchema()
FUNNEL = FunnelSchema()
