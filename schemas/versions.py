"""Flow versions on the wire: ``GET /api/flows/<flow>/versions[/<version>]``.

The store's plain rows (``toneflow.store.versions``) are dumped through these, and
``/openapi.json`` publishes them, so what is served and what is described agree.
"""

from __future__ import annotations

from marshmallow import fields

from schemas.base import Schema
from schemas.calls import Instant


class FlowVersionSchema(Schema):
    """One version of a flow: when it was first loaded, by which server, and what it served."""

    version = fields.String(required=True, metadata={"description": "the source's hash"})
    first_loaded_at = Instant(required=True)
    first_loaded_by = fields.String(required=True, metadata={"description": "server name"})
    first_served = Instant(required=True, allow_none=True)
    last_served = Instant(required=True, allow_none=True)
    calls = fields.Integer(required=True, metadata={"description": "calls it served"})


class FlowVersionListSchema(Schema):
    """Every stored version of one flow, oldest first."""

    flow = fields.String(required=True)
    versions = fields.List(fields.Nested(FlowVersionSchema), required=True)


class FlowVersionSourceSchema(Schema):
    """One version's exact source text."""

    flow = fields.String(required=True)
    version = fields.String(required=True)
    first_loaded_at = Instant(required=True)
    first_loaded_by = fields.String(required=True)
    source = fields.String(required=True, metadata={"description": "the flow file, exactly"})


FLOW_VERSION_LIST = FlowVersionListSchema()
FLOW_VERSION_SOURCE = FlowVersionSourceSchema()
