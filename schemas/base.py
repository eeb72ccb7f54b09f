"""The project's marshmallow base: what every wire and file contract has in common."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from marshmallow import RAISE, ValidationError

#: Messages about a mapping key rather than its value start so; they point at the key.
KEY_PROBLEMS = ("unknown key", "unknown action", "key ")


def did_you_mean(word: str, choices: list[str]) -> str:
    """Suggest the closest known name, for messages that name an unknown one."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class AtCharacter(str):
    """A message about one character of a text value; ``position`` is 1-based.

    marshmallow keeps message objects as given, so a flow file's checker can point at
    the character itself (the ``X`` in ``digits: "12X4"``), not only at the value.
    """

    position: int

    def __new__(cls, message: str, position: int) -> AtCharacter:
        text = super().__new__(cls, message)
        text.position = position
        return text


def first_message(messages: Any) -> str:
    """The first message in marshmallow's nested errors: for a one-line reason."""
    while isinstance(messages, (list, dict)):
        messages = next(iter(messages.values() if isinstance(messages, dict) else messages))
    return str(messages)


class Schema(ma.Schema):
    """Unknown keys are errors, reported in plain words with a suggestion, beside the others.

    marshmallow's own message is "Unknown field." and, raised from a hook, it would hide
    every other error in the same mapping; an author fixing a file wants all of them,
    each saying which key and what was probably meant.
    """

    class Meta:
        unknown = RAISE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The keys this schema reads, in declaration order (fixed once it is built).
        self.known_keys = {f.data_key or name: None for name, f in self.load_fields.items()}

    def load(
        self,
        data: Any,
        *,
        many: bool | None = None,
        partial: Any = None,
        unknown: str | None = None,
    ) -> Any:
        if not isinstance(data, Mapping) or (unknown or self.unknown) != RAISE:
            return super().load(data, many=many, partial=partial, unknown=unknown)
        known = self.known_keys
        if all(key in known for key in data):  # the usual case, checked cheaply
            return super().load(data, many=many, partial=partial, unknown=unknown)
        errors: dict[Any, Any] = {
            key: [f"unknown key '{key}'{did_you_mean(str(key), list(known))}"]
            for key in data
            if key not in known
        }
        try:
            super().load(
                {k: v for k, v in data.items() if k in known},
                many=many,
                partial=partial,
                unknown=unknown,
            )
        except ValidationError as err:
            if isinstance(err.messages, dict):
                errors.update(err.messages)
        raise ValidationError(errors)
