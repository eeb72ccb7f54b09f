"""``POST /push/<platform>/<flow>/<step>``: the body each platform's push takes, and the
shapes a push is answered with (the pushed record is ``schemas.calls.PushEntrySchema``).

The body names the platform's own call reference — VICIdial's ``agent_user``, Vobiz's
``call_uuid`` (and optional ``leg``), Genesys's ``call_id`` — plus ``variables`` for the
step's templates, ``round_up`` and ``dry_run``. Base URLs and credentials are never
read from a request: only from configuration (``TONEFLOW_<PLATFORM>_…``).
"""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import Schema
from schemas.calls import PushEntrySchema, PushSendSchema
from schemas.errors import ErrorSchema
from schemas.fields import CallId


class _PushBodySchema(Schema):
    variables = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "values for the step's templates (`variables.*`)"},
    )
    round_up = fields.Boolean(
        load_default=False,
        metadata={"description": "lengthen pauses the platform cannot express exactly"},
    )
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "answer with the requests that would be sent; send nothing"},
    )


def _reference(description: str) -> CallId:
    return CallId(required=True, metadata={"description": description})


class VicidialPushSchema(_PushBodySchema):
    agent_user = _reference("the agent's login whose live session receives the tones")


class VobizPushSchema(_PushBodySchema):
    call_uuid = _reference("the active call's call_uuid")
    leg = fields.String(
        validate=validate.OneOf(("aleg", "bleg", "both")),
        metadata={"description": "which leg hears the digits (Vobiz's default: aleg)"},
    )


class GenesysPushSchema(_PushBodySchema):
    call_id = _reference("the call's id (/api/v2/me/calls/{id})")


#: The body schema of each platform (its call reference fields: ``toneflow.push.platforms``).
BODY_SCHEMAS: dict[str, Schema] = {
    "vicidial": VicidialPushSchema(),
    "vobiz": VobizPushSchema(),
    "genesys": GenesysPushSchema(),
}


class PlannedRequestSchema(Schema):
    """A request a dry run would send, secrets masked."""

    action = fields.Integer(required=True, metadata={"description": "the step's action number"})
    wait_ms = fields.Integer(
        required=True, metadata={"description": "waited after the previous reply"}
    )
    method = fields.String(required=True)
    url = fields.String(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    body = fields.String(required=True, allow_none=True)


class PushDryRunSchema(Schema):
    """What a push would send (``"dry_run": true``): nothing is sent or recorded."""

    dry_run = fields.Boolean(required=True, metadata={"enum": [True]})
    call_id = fields.String(required=True)
    platform = fields.String(required=True)
    flow = fields.String(required=True)
    step = fields.String(required=True)
    sends = fields.List(fields.Nested(PushSendSchema), required=True)
    requests = fields.List(fields.Nested(PlannedRequestSchema), required=True)


class PushedSchema(PushEntrySchema):
    """A push that was sent and taken, as recorded on the call ``call_id``."""

    call_id = fields.String(required=True)


class PushFailedSchema(ErrorSchema):
    """The platform did not take the digits (or could not be reached): the error, and the
    push as recorded on the call's timeline."""

    call_id = fields.String(required=True)
    push = fields.Nested(PushEntrySchema, required=True)


PUSHED = PushedSchema()
PUSH_FAILED = PushFailedSchema()
PUSH_DRY_RUN = PushDryRunSchema()
