"""The flow test file: scripted calls and what each request must get back.

```yaml
flow: menu                    # optional: default is the test file's stem
cases:
  - name: pressing 2 reaches support
    dialect: minivoice        # or ozml; default minivoice
    call: {id: call_1, from: "+15551230001"}
    variables: {lang: en}
    requests:                 # one per request the platform makes, in order
      - step: greet           # the step whose actions were served
      - step: menu
        contains:             # these actions, in this order, among those served
          - collect_digits: {max_digits: 1}
      - digits: "2"           # what the caller pressed, sent with this request
        step: support
        actions:              # every action served, exactly
          - speak: {text: Connecting you to support.}
          - transfer: {to: "+15551230020"}
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from schemas.base import Schema
from schemas.fields import Name
from toneflow.request import ANSWER_DIALECTS


@dataclass(frozen=True)
class Request:
    """One request of a scripted call, and what must come back."""

    digits: str | None = None
    step: str | None = None
    status: int = 200
    actions: list[Any] | None = None
    contains: list[Any] | None = None


@dataclass(frozen=True)
class Case:
    """One scripted call."""

    name: str
    requests: list[Request]
    dialect: str = "minivoice"
    start: str | None = None
    call: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowTestFile:
    flow: str | None
    cases: list[Case]


def _actions(**kwargs: Any) -> fields.List:
    return fields.List(fields.Dict(keys=fields.String()), **kwargs)


class RequestSchema(Schema):
    digits = fields.String(validate=validate.Length(min=1))
    step = Name()
    status = fields.Integer(validate=validate.Range(200, 599), load_default=200)
    actions = _actions()
    contains = _actions()

    @validates_schema
    def _one_kind_of_check(self, data: dict, **kwargs: Any) -> None:
        if "actions" in data and "contains" in data:
            raise ValidationError("give `actions` (all of them) or `contains` (some), not both")

    @post_load
    def _build(self, data: dict, **kwargs: Any) -> Request:
        return Request(**data)


class CaseSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1))
    dialect = fields.String(validate=validate.OneOf(ANSWER_DIALECTS), load_default="minivoice")
    start = Name()
    call = fields.Dict(keys=fields.String(), load_default=dict)
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    requests = fields.List(
        fields.Nested(RequestSchema), required=True, validate=validate.Length(min=1)
    )

    @post_load
    def _build(self, data: dict, **kwargs: Any) -> Case:
        return Case(**data)


class FlowTestFileSchema(Schema):
    flow = Name()
    cases = fields.List(fields.Nested(CaseSchema), required=True, validate=validate.Length(min=1))

    @post_load
    def _build(self, data: dict, **kwargs: Any) -> FlowTestFile:
        return FlowTestFile(flow=data.get("flow"), cases=data["cases"])
