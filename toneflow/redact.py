"""Phone number redaction (``TONEFLOW_REDACT_NUMBERS=1``): keep only the last four digits.

Support needs to tell two calls apart and match a caller who reads out the end of their
number; it rarely needs the whole number, and a call log that holds none is one less
store of personal data. Masking replaces every digit but the last four with ``*`` and
keeps everything else, so ``+15551230001`` becomes ``+*******0001``. It is idempotent
(a masked number masks to itself), so values stored masked and values masked only on
display look the same. Pure: no Flask, no SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEEP_DIGITS = 4
MASK = "*"
#: Keys of a request's or an event's ``call`` object that hold phone numbers.
NUMBER_KEYS = ("from", "to")


def mask_number(value: str | None) -> str | None:
    """Every digit but the last four replaced by ``*``; None and non-strings pass through."""
    if not isinstance(value, str):
        return value
    to_hide = sum(ch.isdigit() for ch in value) - KEEP_DIGITS
    if to_hide <= 0:
        return value
    masked = []
    for ch in value:
        if ch.isdigit() and to_hide > 0:
            masked.append(MASK)
            to_hide -= 1
        else:
            masked.append(ch)
    return "".join(masked)


def mask_call_numbers(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a request or event body whose ``call.from``/``call.to`` are masked."""
    copy = dict(document)
    call = copy.get("call")
    if isinstance(call, Mapping):
        copy["call"] = {
            key: mask_number(value) if key in NUMBER_KEYS else value for key, value in call.items()
        }
    return copy


def mask_record(record: dict[str, Any]) -> dict[str, Any]:
    """A call record (list row or full record) with every phone number in it masked."""
    masked = {**record, **{key: mask_number(record.get(key)) for key in NUMBER_KEYS}}
    if "answers" in record:
        masked["answers"] = [
            {**answer, "request": mask_call_numbers(answer["request"])}
            for answer in record["answers"]
        ]
    if "events" in record:
        masked["events"] = [
            {**event, "body": mask_call_numbers(event["body"])} for event in record["events"]
        ]
    return masked
