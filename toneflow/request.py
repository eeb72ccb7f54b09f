"""What a platform tells us about a call, in one shape: the call-field table and the request.

Pure: no Flask, no SQL. This is the one place that says which call fields exist, which
request parameters carry each (MiniVoice's ``call_id``, Ozeki's ``CallId``…), which call-log
column keeps it, and which hold phone numbers. The answer schema, the event schema, the
store and redaction all read :data:`CALL_FIELDS` rather than naming fields themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CallField:
    """One field of a call, as the request model, the platforms and the call log name it."""

    name: str  #: the model's key: ``call.<name>`` in JSON, ``{{ call.<name> }}`` in templates
    parameters: tuple[str, ...]  #: query/form parameters that carry it, first found wins
    column: str  #: the ``calls`` column that keeps it
    is_number: bool = False  #: a phone number: masked when TONEFLOW_REDACT_NUMBERS=1


CALL_FIELDS: tuple[CallField, ...] = (
    CallField("id", ("call_id", "CallId"), "call_id"),
    CallField("from", ("from", "Caller"), "from_number", is_number=True),
    CallField("to", ("to", "Callee"), "to_number", is_number=True),
    CallField("direction", ("direction",), "direction"),
    CallField("customer_id", ("customer_id",), "customer_id"),
    CallField("application_id", ("application_id",), "application_id"),
)
#: Model keys of the fields that hold phone numbers (``from``, ``to``).
NUMBER_FIELDS: tuple[str, ...] = tuple(f.name for f in CALL_FIELDS if f.is_number)
#: Call-log columns of those fields (``from_number``, ``to_number``).
NUMBER_COLUMNS: tuple[str, ...] = tuple(f.column for f in CALL_FIELDS if f.is_number)
#: Fields other than the id, which answers and events may fill in on the call row.
DETAIL_FIELDS: tuple[CallField, ...] = tuple(f for f in CALL_FIELDS if f.name != "id")
#: The answer dialects a platform may ask for (``/answer/<dialect>/…``): each has one
#: renderer in ``toneflow/render/`` (``toneflow.answer.RENDERERS``).
ANSWER_DIALECTS: tuple[str, ...] = ("minivoice", "ozml")
#: Query/form parameters that carry the collected digits, first found wins.
DIGITS_PARAMETERS: tuple[str, ...] = ("digits", "Digits", "DtmfDigits")


@dataclass(frozen=True)
class AnswerRequest:
    """What a platform told us, in one shape whatever it sent (GET, JSON or form).

    ``call`` holds only the fields the platform gave, so a template naming a missing one
    fails loudly instead of rendering "None".
    """

    call: dict[str, str] = field(default_factory=dict)
    digits: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def call_id(self) -> str | None:
        return self.call.get("id")

    def context(self, flow_vars: dict[str, Any]) -> dict[str, Any]:
        """The template context: ``call``, ``variables``, ``input``, ``vars``."""
        given_input = {} if self.digits is None else {"digits": self.digits}
        return {
            "call": self.call,
            "variables": self.variables,
            "input": given_input,
            "vars": flow_vars,
        }

    def as_dict(self) -> dict[str, Any]:
        """The normalised request, as recorded on the call's timeline."""
        return {"call": self.call, "input": {"digits": self.digits}, "variables": self.variables}
