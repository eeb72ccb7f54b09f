"""Custom fields shared by the schemas: templated values, names, whole numbers, digits, and
the call fields a platform sends (call ids, phone numbers)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from marshmallow import ValidationError, fields, validate

from schemas.base import AtCharacter
from schemas.text import StoredText
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.parsing import DEFAULT_MAX_DIGITS, parse
from toneflow.flows.model import NAME_PATTERN, TemplateSource, is_template
from toneflow.flows.templates import TemplateProblem, compile_template
from toneflow.request import CallField

#: The configured ``TONEFLOW_MAX_DIGITS``. A contextvar, marshmallow 4's replacement for
#: schema context, set by whoever loads a flow or renders a step (see :func:`digit_limit`).
MAX_DIGITS: ContextVar[int] = ContextVar("max_digits", default=DEFAULT_MAX_DIGITS)
#: A step name written as a template: steps are chosen per call by a switch, not by text.
TEMPLATED_NAME = "a step name cannot be a template: use a switch step to choose the step per call"
#: ``2s``, ``1.5 s``, ``500ms``: a duration written with its unit.
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds?)\s*$", re.IGNORECASE)


@contextmanager
def digit_limit(max_digits: int):
    """Apply ``max_digits`` to every digits value validated inside the block."""
    token = MAX_DIGITS.set(max_digits)
    try:
        yield
    finally:
        MAX_DIGITS.reset(token)


class Templatable(fields.Field):
    """A value that may be a Jinja2 template instead of a literal.

    A literal is validated now by ``inner``; a template is kept as a
    :class:`TemplateSource` carrying ``inner``, so what it renders to per request is
    validated by the very same field.
    """

    def __init__(self, inner: fields.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner = inner

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and is_template(value):
            return template_source(value, self.inner)
        if isinstance(value, str) and isinstance(self.inner, fields.Integer):
            # Only a template's rendered text is read as a number; a literal is written as
            # one, so the flow file and its JSON Schema say the same thing.
            if value.strip().lstrip("-").isdigit():
                raise ValidationError("must be a whole number, written without quotes")
            raise ValidationError(_not_a_number(value, getattr(self.inner, "unit", None)))
        return self.inner.deserialize(value)


def _not_a_number(text: str, unit: str | None) -> str:
    """``must be a whole number of milliseconds, e.g. 2000, not '2s'``."""
    if unit != "milliseconds":
        return f"must be a whole number, not {text!r}"
    duration = _DURATION.match(text)
    example = 2000
    if duration:
        amount = float(duration.group(1))
        example = round(amount if duration.group(2).lower() == "ms" else amount * 1000)
    return f"must be a whole number of milliseconds, e.g. {example}, not {text!r}"


def template_source(text: str, validator: fields.Field) -> TemplateSource:
    """Compile ``text`` now, so a broken template is an error at load time, not per call."""
    try:
        compiled, names = compile_template(text)
    except TemplateProblem as err:
        raise ValidationError(str(err)) from err
    return TemplateSource(text, validator, compiled, names)


class Name(fields.String):
    """A flow or step name: ``^[a-z0-9][a-z0-9_-]{0,63}$``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        if is_template(name):
            raise ValidationError(TEMPLATED_NAME)
        if not NAME_PATTERN.match(name):
            raise ValidationError(
                f"'{name}' is not a valid name: use lowercase letters, digits, '_' and '-', "
                "starting with a letter or digit, at most 64 characters"
            )

        return name


class KeyName(Name):
    """A name used as a mapping key (a step's name): its errors point at the key."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as err:
            raise ValidationError(f"key {err.messages[0]}") from err


class WholeNumber(fields.Integer):
    """An integer, also from a rendered template's text, never silently truncated.

    ``unit`` (``milliseconds``) lets a value written with its unit (``2s``) be told
    what to write instead.
    """

    def __init__(self, *, unit: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unit = unit

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValidationError("must be a whole number")
        if isinstance(value, str):
            value = value.strip()
        return super()._deserialize(value, attr, data, **kwargs)


class Digits(fields.String):
    """A MiniVoice digits string; the rule itself lives in :mod:`toneflow.dtmf.parsing`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parse(text, "minivoice", max_length=MAX_DIGITS.get())
        except DtmfError as err:
            message = str(err) if err.position is None else AtCharacter(str(err), err.position)
            raise ValidationError(message) from err
        return text


class NamedMapping(fields.Field):
    """A mapping whose keys are names and whose values share one field.

    Used instead of ``fields.Dict`` so errors are keyed by the author's own key (not
    marshmallow's ``key``/``value`` wrappers) and can be traced to a line in the file.
    """

    def __init__(
        self,
        values: fields.Field,
        *,
        key_field: fields.Field | None = None,
        allow_empty: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.values = values
        self.key_field = key_field
        self.allow_empty = allow_empty

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, dict):
            raise ValidationError("must be a mapping")
        if not value and not self.allow_empty:
            raise ValidationError("must not be empty")
        result, errors = {}, {}
        for key, item in value.items():
            try:
                if self.key_field is not None:
                    key = self.key_field.deserialize(key)
                result[key] = self.values.deserialize(item)
            except ValidationError as err:
                errors[key] = err.messages
        if errors:
            raise ValidationError(errors)
        return result


#: The longest call id the call log keeps (``toneflow.store.tables.CALL_ID_MAX``).
CALL_ID_MAX = 128


class PlatformText(StoredText):
    """A call field as platforms send it: text, or a whole number (some send ids so).

    A number becomes its decimal text (``42`` -> ``"42"``); a boolean is not a number here.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"type": ["string", "integer"], **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class CallId(PlatformText):
    """A call id, one rule for answers and events: 1-128 characters of text or a number."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Length(1, CALL_ID_MAX))
        super().__init__(**kwargs)


class PhoneNumber(PlatformText):
    """A ``from``/``to`` number, without surrounding whitespace.

    A ``+`` sent unencoded in a form or query string arrives as a space
    (``Caller=+1555...`` reads as ``" 1555..."``); stripping keeps the rest searchable, and
    a number never starts or ends with a space on purpose.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def call_field(field: CallField, **kwargs: Any) -> PlatformText:
    """The marshmallow field that validates one of :data:`~toneflow.request.CALL_FIELDS`.

    The id is a :class:`CallId`, a phone number a :class:`PhoneNumber`, any other field
    :class:`PlatformText`: the table says which field is which, this says how each is read.
    """
    if field.name == "id":
        return CallId(**kwargs)
    if field.is_number:
        return PhoneNumber(**kwargs)
    return PlatformText(**kwargs)
