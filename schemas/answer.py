"""The answer request: whatever a platform sent, as one model.

Platforms fetch answer_url with GET (query string), POST JSON, or POST form (Ozeki).
:func:`normalise` maps them all onto ``call``/``input``/``variables`` by the contract's
table; :class:`AnswerRequestSchema` validates the result and builds an
:class:`~toneflow.answer.AnswerRequest`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate

from schemas.base import Schema
from toneflow.answer import AnswerRequest

#: Model field → parameter names that carry it, first found wins (then the JSON body).
CALL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "id": ("call_id", "CallId"),
    "from": ("from", "Caller"),
    "to": ("to", "Callee"),
    "direction": ("direction",),
    "customer_id": ("customer_id",),
    "application_id": ("application_id",),
}
DIGITS_PARAMETERS = ("digits", "Digits", "DtmfDigits")
NAMED_PARAMETERS = frozenset(
    {name for names in CALL_PARAMETERS.values() for name in names} | set(DIGITS_PARAMETERS)
)


def _first(params: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((params[name] for name in names if name in params), None)


def normalise(params: dict[str, str], body: dict[str, Any] | None) -> dict[str, Any]:
    """Merge query/form ``params`` and a JSON ``body`` into the request model's shape."""
    body = body or {}
    json_call = body.get("call") if isinstance(body.get("call"), dict) else {}
    json_input = body.get("input") if isinstance(body.get("input"), dict) else {}
    call = {}
    for field, names in CALL_PARAMETERS.items():
        value = _first(params, names)
        if value is None:
            value = json_call.get(field)
        if value is not None:
            call[field] = value
    digits = _first(params, DIGITS_PARAMETERS)
    if digits is None:
        digits = json_input.get("digits")
    variables: dict[str, Any] = {k: v for k, v in params.items() if k not in NAMED_PARAMETERS}
    if "variables" in body:
        if not isinstance(body["variables"], dict):
            raise ValidationError({"variables": ["must be an object"]})
        variables.update(body["variables"])
    return {"call": call, "input": {"digits": digits}, "variables": variables}


class CallText(fields.String):
    """A call field: text, or a number some platforms send for ids.

    Never NUL: the call log keeps these in text columns, which on PostgreSQL cannot hold it.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        return text


class CallSchema(Schema):
    id = CallText(validate=validate.Length(1, 128))
    from_ = CallText(data_key="from", attribute="from")
    to = CallText()
    direction = CallText()
    customer_id = CallText()
    application_id = CallText()


class InputSchema(Schema):
    digits = fields.String(allow_none=True)


class AnswerRequestSchema(Schema):
    """The normalised answer request."""

    call = fields.Nested(CallSchema, load_default=dict)
    input = fields.Nested(InputSchema, load_default=dict)
    variables = fields.Dict(keys=fields.String(), load_default=dict)

    @post_load
    def _build(self, data: dict, **kwargs: Any) -> AnswerRequest:
        return AnswerRequest(
            call=data["call"], digits=data["input"].get("digits"), variables=data["variables"]
        )
