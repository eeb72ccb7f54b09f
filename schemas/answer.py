"""The answer request: whatever a platform sent, as one model.

Platforms fetch answer_url with GET (query string), POST JSON, or POST form (Ozeki).
:func:`normalise` maps them all, in one step, onto the mapping
:class:`AnswerRequestSchema` loads: one key per model field (``call.id``,
``input.digits``, ``variables``), only those given. The schema validates it and builds an
:class:`~toneflow.request.AnswerRequest`; its error messages name the same keys, so a bad
call id is ``call.id: …`` on the wire without any reshaping.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from schemas.base import Schema
from schemas.fields import call_field
from toneflow.request import CALL_FIELDS, DIGITS_PARAMETERS, AnswerRequest

#: Model key -> the query/form parameters that carry it, first found wins (then the JSON
#: body at the same path). From the call-field table, so a new field needs no edit here.
PARAMETERS: dict[str, tuple[str, ...]] = {
    **{f"call.{f.name}": f.parameters for f in CALL_FIELDS},
    "input.digits": DIGITS_PARAMETERS,
}
#: Parameters the model names: the rest of the query/form are ``variables``.
NAMED_PARAMETERS = frozenset(name for names in PARAMETERS.values() for name in names)
#: The JSON body's objects that hold model fields; ``variables`` is read whole.
SECTIONS = ("call", "input")
#: (model key, JSON section, key inside it, parameters), in the order :func:`normalise` reads.
_SOURCES = tuple((key, *key.split(".", 1), names) for key, names in PARAMETERS.items())
_NO_SECTIONS: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}


def normalise(params: dict[str, str], body: dict[str, Any] | None) -> dict[str, Any]:
    """Merge query/form ``params`` and a JSON ``body`` into what the schema loads.

    Each model key is the first parameter the table names for it, else the JSON body's
    value at that path; keys with neither are left out (JSON ``null`` says nothing).
    """
    sections = _sections(body) if body else _NO_SECTIONS
    data: dict[str, Any] = {}
    for key, section, name, names in _SOURCES:
        for parameter in names:
            if parameter in params:
                data[key] = params[parameter]
                break
        else:
            value = sections[section].get(name)
            if value is not None:
                data[key] = value
    variables: dict[str, Any] = {k: v for k, v in params.items() if k not in NAMED_PARAMETERS}
    if body and "variables" in body:
        if not isinstance(body["variables"], dict):
            raise ValidationError({"variables": ["must be an object"]})
        variables.update(body["variables"])
    data["variables"] = variables
    return data


def _sections(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``call`` and ``input`` of a JSON body: objects, or absent (null says nothing)."""
    sections = {}
    for name in SECTIONS:
        value = body.get(name)
        if value is None:
            value = {}
        elif not isinstance(value, dict):
            raise ValidationError({name: ["must be an object"]})
        sections[name] = value
    return sections


def _model_fields() -> dict[str, fields.Field]:
    """The model's fields, each named by its key: ``call.id``, ``input.digits``, ``variables``.

    marshmallow reads a field's key from the input, names it in errors, and, because the
    name holds a dot, nests the loaded value (``{"call": {"id": …}}``): the model's shape.
    """
    declared: dict[str, fields.Field] = {f"call.{f.name}": call_field(f) for f in CALL_FIELDS}
    declared["input.digits"] = fields.String(allow_none=True)
    declared["variables"] = fields.Dict(keys=fields.String(), load_default=dict)
    return declared


def _schema_of(declared: dict[str, fields.Field], name: str) -> type[Schema]:
    return Schema.from_dict(declared, name=name)


class AnswerRequestSchema(_schema_of(_model_fields(), "AnswerRequestFields")):  # type: ignore[misc]
    """The answer request as :func:`normalise` gives it; loads an ``AnswerRequest``.

    It runs on every answer. marshmallow visits every declared field on each load, present
    or not, and a request usually carries two or three of the eight; so each key set sent
    is validated by a schema of just those fields (and ``variables``), built once: the same
    field validation, for a fraction of the cost.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Key set sent -> a schema of just those fields (at most 2^7 of them).
        self._subsets: dict[frozenset[str], Schema] = {}

    def _for_keys(self, data: dict[str, Any]) -> Schema | None:
        """The schema of the fields ``data`` holds, or None if it holds an unknown key.

        A request with an unknown key gets the whole schema, which names it beside the
        other errors.
        """
        keys = frozenset(data)
        schema = self._subsets.get(keys)
        if schema is None:
            if not keys <= self.known_keys.keys():
                return None
            declared = _model_fields()
            subset = {key: declared[key] for key in declared if key in keys or key == "variables"}
            schema = self._subsets.setdefault(keys, _schema_of(subset, "AnswerRequestSubset")())
        return schema

    def load(self, data: Any, **kwargs: Any) -> AnswerRequest:  # type: ignore[override]
        if not isinstance(data, dict):
            raise ValidationError({"_schema": ["the request must be a mapping"]})
        subset = None if kwargs else self._for_keys(data)
        loaded = super().load(data, **kwargs) if subset is None else subset.load(data)
        return AnswerRequest(
            call=loaded.get("call", {}),
            digits=loaded.get("input", {}).get("digits"),
            variables=loaded["variables"],
        )
