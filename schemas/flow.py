"""The flow file contract: the file, each action, a switch step.

Every rule a flow author can break at load time is stated here (or, for digits, in
:mod:`toneflow.dtmf` through :class:`schemas.fields.Digits`). Templated values are
checked again, by the same fields, after they render (see ``toneflow.answer``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, pre_load, validate

from schemas.base import Schema, did_you_mean
from schemas.fields import (
    Digits,
    KeyName,
    Name,
    NamedMapping,
    Templatable,
    WholeNumber,
    template_source,
)
from toneflow.dtmf.wire import DEFAULT_GAP_MS, DEFAULT_TONE_MS, WireTiming
from toneflow.flows import model

MAX_PAUSE_MS = 60_000
MAX_TONE_MS = 10_000
KEYS_TO_FINISH = "0123456789*#"


def _text(**kwargs: Any) -> Templatable:
    return Templatable(fields.String(validate=validate.Length(min=1)), **kwargs)


class ActionSchema(Schema):
    """An action's arguments. ``shorthand`` names the field a bare scalar stands for."""

    shorthand: str | None = None
    model_class: type
    #: What the action takes, and how it is written, for one with no shorthand.
    takes: str = "a mapping, not a bare value"
    example = "{…}"

    def refuse(self, kind: str, arguments: Any) -> str | None:
        """Why ``arguments`` cannot be this action's value, said before loading it.

        Loading would say ``_schema: Invalid input type`` of a bare value the action has
        no shorthand for, and two things (one at an internal path) of a templated step.
        """
        if self.shorthand is None and arguments is not None and not isinstance(arguments, dict):
            return f"{kind} takes {self.takes}: write `{kind}: {self.example}`"
        return None

    @pre_load
    def _expand_shorthand(self, data: Any, **kwargs: Any) -> Any:
        if self.shorthand and not isinstance(data, dict):
            return {self.shorthand: data}
        if data is None:
            return {}
        return data

    @post_load
    def _build(self, data: dict, **kwargs: Any) -> model.Action:
        return self.model_class(**data)


class SendDigitsSchema(ActionSchema):
    shorthand = "digits"
    model_class = model.SendDigits
    digits = Templatable(
        Digits(), required=True, metadata={"description": "0-9 * # A-D, and w W , for pauses"}
    )
    pause_before_ms = Templatable(
        WholeNumber(validate=validate.Range(0, MAX_PAUSE_MS), unit="milliseconds"),
        metadata={"description": "silence before the first key, in ms"},
    )
    party = Templatable(
        fields.String(validate=validate.OneOf(model.PARTIES)),
        metadata={"description": "OzML SendDTMF Party; default: the flow's party"},
    )


class SpeakSchema(ActionSchema):
    shorthand = "text"
    model_class = model.Speak
    text = _text(required=True)
    language = _text()


class PlaySchema(ActionSchema):
    shorthand = "url"
    model_class = model.Play
    url = Templatable(fields.Url(schemes={"http", "https"}), required=True)


class CollectDigitsSchema(ActionSchema):
    model_class = model.CollectDigits
    example = "{max_digits: 1, timeout_ms: 5000, next: <step>}"
    max_digits = Templatable(WholeNumber(validate=validate.Range(1, 64)), required=True)
    timeout_ms = Templatable(
        WholeNumber(validate=validate.Range(100, MAX_PAUSE_MS), unit="milliseconds"),
        required=True,
    )
    finish_on_key = Templatable(fields.String(validate=validate.OneOf(list(KEYS_TO_FINISH))))
    next = Name(
        required=True, metadata={"description": "the step the collected digits are posted to"}
    )


class RedirectSchema(ActionSchema):
    shorthand = "step"
    model_class = model.Redirect
    step = Name(required=True)

    def refuse(self, kind: str, arguments: Any) -> str | None:
        if isinstance(arguments, str) and model.is_template(arguments):
            return f"{kind} cannot be templated: use a switch step to choose the step per call"
        return super().refuse(kind, arguments)


class TransferSchema(ActionSchema):
    shorthand = "to"
    model_class = model.Transfer
    to = _text(required=True)


class HangupSchema(ActionSchema):
    model_class = model.Hangup
    takes = "no value"
    example = "{}"


ACTION_SCHEMAS: dict[str, ActionSchema] = {
    "send_digits": SendDigitsSchema(),
    "speak": SpeakSchema(),
    "play": PlaySchema(),
    "collect_digits": CollectDigitsSchema(),
    "redirect": RedirectSchema(),
    "transfer": TransferSchema(),
    "hangup": HangupSchema(),
}


class ActionField(fields.Field):
    """One action: a mapping with exactly one key, the action's name."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict) or len(value) != 1:
            raise ValidationError(
                "an action is a mapping with exactly one key, the action's name "
                "(for example `- speak: Hello`)"
            )
        ((name, arguments),) = value.items()
        schema = ACTION_SCHEMAS.get(name)
        if schema is None:
            known = list(ACTION_SCHEMAS)
            raise ValidationError(
                {
                    name: [
                        f"unknown action '{name}'{did_you_mean(str(name), known)}; "
                        f"actions are: {', '.join(known)}"
                    ]
                }
            )
        refused = schema.refuse(name, arguments)
        if refused:
            raise ValidationError({name: [refused]})
        try:
            return schema.load(arguments)
        except ValidationError as err:
            raise ValidationError({name: err.messages}) from err


class SwitchSchema(Schema):
    """A step decided on the server, with no extra round trip to the platform."""

    switch = fields.Function(
        deserialize=lambda text: template_source(str(text), fields.String()), required=True
    )
    cases = NamedMapping(Name(), allow_empty=False, required=True)
    default = Name()

    @pre_load
    def _case_keys_as_text(self, data: Any, **kwargs: Any) -> Any:
        # `1: sales` and `"1": sales` mean the same case: the digits the caller pressed.
        if isinstance(data, dict) and isinstance(data.get("cases"), dict):
            data = {**data, "cases": {str(k): v for k, v in data["cases"].items()}}
        return data

    @post_load
    def _build(self, data: dict, **kwargs: Any) -> model.Switch:
        return model.Switch(
            expression=data["switch"],
            cases=data["cases"],
            default=data.get("default"),
        )


#: One instance for every switch (loading keeps no state on a schema; building one costs).
SWITCH_SCHEMA = SwitchSchema()


class StepField(fields.Field):
    """A step: a list of actions, or a switch mapping."""

    actions = fields.List(ActionField(), validate=validate.Length(min=1))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise ValidationError("a step needs at least one action")
            return tuple(self.actions.deserialize(value))
        if isinstance(value, dict):
            if "switch" not in value:
                raise ValidationError(
                    "a step is a list of actions, or a mapping with `switch` and `cases`"
                )
            return SWITCH_SCHEMA.load(value)
        raise ValidationError("a step is a list of actions, or a mapping with `switch` and `cases`")


class DtmfTimingSchema(Schema):
    """How the platform sends each key: tone length and inter-key gap, in ms."""

    tone_ms = WholeNumber(
        validate=validate.Range(1, MAX_TONE_MS),
        unit="milliseconds",
        metadata={"description": f"how long each key sounds; default {DEFAULT_TONE_MS}"},
    )
    gap_ms = WholeNumber(
        validate=validate.Range(0, MAX_TONE_MS),
        unit="milliseconds",
        metadata={"description": f"silence after each key; default {DEFAULT_GAP_MS}"},
    )

    @post_load
    def _build(self, data: dict, **kwargs: Any) -> WireTiming:
        return WireTiming(**data)


class DtmfTimingField(fields.Nested):
    """``dtmf:``, a mapping; anything else is told how to write it (not ``_schema``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ValidationError("dtmf is a mapping: write `dtmf: {tone_ms: 100, gap_ms: 100}`")
        return super()._deserialize(value, attr, data, **kwargs)


class FlowFileSchema(Schema):
    """A whole flow file (``flows/<name>.yaml``)."""

    description = fields.String(metadata={"description": "what the flow is for"})
    start = Name(metadata={"description": "the first step; default: the first in the file"})
    party = fields.String(
        validate=validate.OneOf(model.PARTIES),
        metadata={"description": "OzML Party for send_digits; default: callee"},
    )
    fallback = Name(metadata={"description": "the step served when another cannot render"})
    vars = fields.Dict(
        keys=fields.String(), metadata={"description": "constants, visible to templates as vars.*"}
    )
    dtmf = DtmfTimingField(
        DtmfTimingSchema,
        metadata={"description": "the platform's tone and gap (the wire plan); default 100/100"},
    )
    steps = NamedMapping(
        StepField(),
        key_field=KeyName(),
        allow_empty=False,
        required=True,
        metadata={"description": "the steps by name: a list of actions, or a switch"},
    )
