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
    far_end:                  # optional: the system the call's send_digits reach
      terminator: "#"         # defaults for every prompt (TwiML's: #, 5 s, 5 s)
      prompts:
        - {name: greeting, ms: 4500, discards: true, keys: 0}
        - {name: pin, ms: 2000, terminator: "*"}
      receives: "1234*"       # every key that landed, in order; and/or
      inputs: {pin: "1234"}   # what each prompt's entry took (terminator excluded)
```

OzML says which party hears each send (``SendDTMF``'s ``Party``), so an OzML case may
describe one far end per party instead, each hearing only the sends to it (and to
``all``), on the call's one clock:

```yaml
    far_ends:
      caller: {prompts: [{name: code, ms: 1000, keys: 3}], receives: "123"}
      callee: {prompts: [{name: code, ms: 1000, keys: 3}], receives: "321"}
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from schemas.base import Schema
from schemas.fields import Name, WholeNumber
from toneflow.dtmf.farend import DEFAULT_TERMINATOR, DEFAULT_TIMEOUT_MS, Prompt
from toneflow.dtmf.tokens import KEYS
from toneflow.flows.model import PARTIES
from toneflow.request import ANSWER_DIALECTS

#: The longest prompt or timeout a far end may be described with (an hour).
MAX_FAR_END_MS = 3_600_000
#: The parties a far end can be: OzML's, less ``all`` (a send to all reaches each of them).
HEARING_PARTIES = tuple(party for party in PARTIES if party != "all")


@dataclass(frozen=True)
class Request:
    """One request of a scripted call, and what must come back."""

    digits: str | None = None
    step: str | None = None
    status: int = 200
    actions: list[Any] | None = None
    contains: list[Any] | None = None


@dataclass(frozen=True)
class FarEnd:
    """The system at the far end, and what it must receive."""

    prompts: tuple[Prompt, ...]
    receives: str | None = None
    inputs: dict[str, str] | None = None


@dataclass(frozen=True)
class Case:
    """One scripted call."""

    name: str
    requests: list[Request]
    dialect: str = "minivoice"
    start: str | None = None
    call: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    far_end: FarEnd | None = None
    far_ends: dict[str, FarEnd] | None = None
    """One far end per OzML party (``caller``, ``callee``), instead of ``far_end``."""


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


def _ms(**kwargs: Any) -> WholeNumber:
    return WholeNumber(validate=validate.Range(0, MAX_FAR_END_MS), unit="milliseconds", **kwargs)


def _keys(**kwargs: Any) -> fields.String:
    """Keys as the far end hears them: ``0-9 * # A-D``, no pauses."""
    return fields.String(
        validate=validate.ContainsOnly(KEYS, error="must be DTMF keys (0-9 * # A-D)"), **kwargs
    )


_TERMINATOR = validate.OneOf(KEYS, error="must be one DTMF key (0-9 * # A-D), or null")


class PromptSchema(Schema):
    """One prompt; the timeouts and terminator default to the far end's."""

    name = fields.String(required=True, validate=validate.Length(min=1))
    ms = _ms(required=True)
    discards = fields.Boolean(load_default=False)
    keys = WholeNumber(validate=validate.Range(0, 128), allow_none=True, load_default=None)
    terminator = fields.String(allow_none=True, validate=_TERMINATOR)
    first_key_timeout_ms = _ms()
    inter_key_timeout_ms = _ms()


class FarEndSchema(Schema):
    first_key_timeout_ms = _ms(load_default=DEFAULT_TIMEOUT_MS)
    inter_key_timeout_ms = _ms(load_default=DEFAULT_TIMEOUT_MS)
    terminator = fields.String(
        allow_none=True, validate=_TERMINATOR, load_default=DEFAULT_TERMINATOR
    )
    prompts = fields.List(
        fields.Nested(PromptSchema), required=True, validate=validate.Length(min=1)
    )
    receives = _keys()
    inputs = fields.Dict(keys=fields.String(), values=_keys())

    @validates_schema
    def _check(self, data: dict, **kwargs: Any) -> None:
        if "receives" not in data and "inputs" not in data:
            raise ValidationError(
                "say what the far end must receive: `receives` (every key, in order), "
                "`inputs` (each prompt's entry), or both",
                field_name="receives",
            )
        names: set[str] = set()
        for index, prompt in enumerate(data.get("prompts", [])):
            if prompt["name"] in names:
                raise ValidationError(
                    {"prompts": {index: {"name": [f"a second prompt named {prompt['name']!r}"]}}}
                )
            names.add(prompt["name"])
        taking = {p["name"] for p in data.get("prompts", []) if p.get("keys") != 0}
        for name in data.get("inputs", {}):
            if name not in taking:
                known = ", ".join(sorted(taking)) or "none"
                raise ValidationError(
                    {"inputs": [f"{name!r} is not a prompt that takes input (those: {known})"]}
                )

    @post_load
    def _build(self, data: dict, **kwargs: Any) -> FarEnd:
        defaults = {k: data[k] for k in ("first_key_timeout_ms", "inter_key_timeout_ms")}
        defaults["terminator"] = data["terminator"]
        prompts = tuple(Prompt(**{**defaults, **p}) for p in data["prompts"])
        return FarEnd(prompts, data.get("receives"), data.get("inputs"))


class CaseSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1))
    dialect = fields.String(validate=validate.OneOf(ANSWER_DIALECTS), load_default="minivoice")
    start = Name()
    call = fields.Dict(keys=fields.String(), load_default=dict)
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    requests = fields.List(
        fields.Nested(RequestSchema), required=True, validate=validate.Length(min=1)
    )
    far_end = fields.Nested(FarEndSchema)
    far_ends = fields.Dict(
        keys=fields.String(
            validate=validate.OneOf(
                HEARING_PARTIES, error=f"must be a party: {' or '.join(HEARING_PARTIES)}"
            )
        ),
        values=fields.Nested(FarEndSchema),
        validate=validate.Length(min=1),
    )

    @validates_schema
    def _one_kind_of_far_end(self, data: dict, **kwargs: Any) -> None:
        if "far_ends" not in data:
            return
        if "far_end" in data:
            raise ValidationError(
                "give `far_end` (every send reaches it) or `far_ends` (one per party), not both",
                field_name="far_ends",
            )
        if data.get("dialect") != "ozml":
            raise ValidationError(
                "only OzML says which party hears a send (SendDTMF's Party): with "
                f"{data.get('dialect')} every send reaches one far end, so use `far_end`",
                field_name="far_ends",
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
