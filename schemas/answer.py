"""The answer request: whatever a platform sent, as one model.

Platforms fetch answer_url with GET (query string), POST JSON, or POST form (Ozeki).
:func:`normalise` maps them all onto ``call``/``input``/``variables`` by the contract's
table; :class:`AnswerRequestSchema` validates the result and builds an
:class:`~toneflow.request.AnswerRequest`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from schemas.base import Schema
from schemas.fields import CallId, PhoneNumber, PlatformText
from toneflow.request import CALL_FIELDS, DIGITS_PARAMETERS, AnswerRequest

#: Model field → parameter names that carry it, first found wins (then the JSON body).
CALL_PARAMETERS: dict[str, tuple[str, ...]] = {f.name: f.parameters for f in CALL_FIELDS}
NAMED_PARAMETERS = frozenset(
    {name for names in CALL_PARAMETERS.values() for name in names} | set(DIGITS_PARAMETERS)
)


def _first(params: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((params[name] for name in names if name in params), None)


def normalise(params: dict[str, str], body: dict[str, Any] | None) -> dict[str, Any]:
    """Merge query/form ``params`` and a JSON ``body`` into the request model's shape."""
    body = body or {}
    json_call = _section(body, "call")
    json_input = _section(body, "input")
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


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    """``call`` or ``input`` of a JSON body: an object, or absent (null says nothing)."""
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError({name: ["must be an object"]})
    return value


SECTIONS = ("call", "input")


class AnswerRequestSchema(Schema):
    """The normalised answer request (``call``, ``input``, ``variables``).

    It runs on every answer, so it is validated as one flat mapping, each field keyed by
    its dotted path (``call.id``): nested schemas cost marshmallow several times more per
    request. Errors come back nested as the model is (``{"call": {"id": [...]}}``).
    """

    call_id = CallId(data_key="call.id")
    call_from = PhoneNumber(data_key="call.from")
    call_to = PhoneNumber(data_key="call.to")
    call_direction = PlatformText(data_key="call.direction")
    call_customer_id = PlatformText(data_key="call.customer_id")
    call_application_id = PlatformText(data_key="call.application_id")
    input_digits = fields.String(data_key="input.digits", allow_none=True)
    variables = fields.Dict(keys=fields.String(), load_default=dict)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Wire key (``call.id``) -> field name, for the fields this schema reads.
        self._field_of = {f.data_key or name: name for name, f in self.load_fields.items()}
        #: Key set sent -> a schema of just those fields (at most 2^8 of them).
        self._subsets: dict[frozenset[str], AnswerRequestSchema] = {}

    def _for_keys(self, flat: dict[str, Any]) -> Schema:
        """A schema of only the fields ``flat`` holds (plus ``variables``), built once.

        marshmallow visits every declared field on each load, present or not; an answer
        request usually carries two or three of the eight, so loading with a schema of
        just those runs the same field validation for a third of the cost. A request
        with an unknown key gets the whole schema, which names it beside other errors.
        """
        keys = frozenset(flat)
        schema = self._subsets.get(keys)
        if schema is None:
            if not keys <= self._field_of.keys():
                return self
            only = {self._field_of[key] for key in keys} | {"variables"}
            schema = self._subsets.setdefault(keys, AnswerRequestSchema(only=only))
        return schema

    def load(self, data: Any, **kwargs: Any) -> AnswerRequest:  # type: ignore[override]
        if not isinstance(data, dict):
            raise ValidationError({"_schema": ["the request must be a mapping"]})
        flat = _flatten(data)
        schema = self._for_keys(flat) if not kwargs and self.only is None else self
        try:
            loaded = super(AnswerRequestSchema, schema).load(flat, **kwargs)
        except ValidationError as err:
            raise ValidationError(_nest(err.messages)) from err
        return AnswerRequest(
            call={f.name: loaded[key] for f in CALL_FIELDS if (key := f"call_{f.name}") in loaded},
            digits=loaded.get("input_digits"),
            variables=loaded["variables"],
        )


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    flat = {key: value for key, value in data.items() if key not in SECTIONS}
    for section in SECTIONS:
        value = data.get(section)
        if isinstance(value, dict):
            flat.update((f"{section}.{key}", inner) for key, inner in value.items())
        elif value is not None:
            flat[section] = value  # not a mapping: refused as an unknown key names it
    return flat


def _nest(messages: Any) -> Any:
    if not isinstance(messages, dict):
        return messages
    nested: dict[str, Any] = {}
    for key, value in messages.items():
        section, dot, name = str(key).partition(".")
        if dot and section in SECTIONS:
            nested.setdefault(section, {})[name] = value
        else:
            nested[key] = value
    return nested
