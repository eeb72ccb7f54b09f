"""Text the call log stores, as it arrives from a platform: never NUL.

PostgreSQL text columns cannot hold NUL, so a value carrying one is refused where it is
read, naming its field, instead of failing later in the store. The rule is stated twice
in one place: as the check, and as the ``pattern`` ``/openapi.json`` publishes for it.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

#: What ``/openapi.json`` says of every such value (JSON Schema regex: no NUL anywhere).
NO_NUL_PATTERN = "^[^\\u0000]*$"


class StoredText(fields.String):
    """A string the call log keeps in a text column."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": NO_NUL_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        return text
