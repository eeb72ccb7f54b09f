"""Phone number redaction (``TONEFLOW_REDACT_NUMBERS=1``): keep only the last four digits.

Support needs to tell two calls apart and match a caller who reads out the end of their
number; it rarely needs the whole number, and a call log that holds none is one less
store of personal data. Masking replaces every digit but the last four with ``*`` and
keeps everything else, so ``+15551230001`` becomes ``+*******0001``. It is idempotent
(a masked number masks to itself), so values stored masked and values masked only on
display look the same. Pure: no Flask, no SQL.

What is masked, in one place (this module), wherever a record leaves the store or is
logged: ``from``/``to`` whatever they hold; every other text value of a recorded request
or a stored event body that :func:`looks_like_phone_number` (variables, digits, fields a
platform adds), except the call id, which must match exactly; and those same numbers
wherever they appear in an answer's body (a flow that reads the number back).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from toneflow.request import NUMBER_FIELDS

KEEP_DIGITS = 4
MASK = "*"
#: Keys of a request's or an event's ``call`` object that hold phone numbers.
NUMBER_KEYS = NUMBER_FIELDS
#: How many digits a phone number has: ITU-T E.164 allows at most 15; 7 is a local number.
PHONE_DIGITS = range(7, 16)
#: The characters a written phone number is made of: an optional leading ``+``, then
#: digits, spaces, dashes, dots and parentheses.
_PHONE_SHAPE = re.compile(r"\+?[\d ().-]+")
#: A calendar date (``2026-05-29``) has eight digits and dashes, but is not a number.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def looks_like_phone_number(value: Any) -> bool:
    """True for text written as a phone number: ``+1 (555) 123-0001``, ``555.123.0001``.

    Text (surrounding whitespace aside) made only of digits, spaces, ``-``, ``.``, ``(``,
    ``)`` and an optional leading ``+``, holding 7 to 15 digits, and not a ``YYYY-MM-DD``
    date. JSON numbers and booleans are not text, so they never look like one.
    """
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not _PHONE_SHAPE.fullmatch(text) or _ISO_DATE.fullmatch(text):
        return False
    return sum(ch.isdigit() for ch in text) in PHONE_DIGITS


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


def mask_values(value: Any) -> Any:
    """A copy of a JSON value with every text in it that looks like a phone number masked."""
    if isinstance(value, Mapping):
        return {key: mask_values(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [mask_values(inner) for inner in value]
    return mask_number(value) if looks_like_phone_number(value) else value


def mask_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """A request or event body with its numbers masked: ``call.from``/``call.to`` whatever
    they hold, and every other value that looks like a phone number but the call id."""
    masked = {key: mask_values(value) for key, value in document.items() if key != "call"}
    call = document.get("call")
    if isinstance(call, Mapping):
        masked["call"] = {
            key: mask_number(value) if key in NUMBER_KEYS else value if key == "id"
            else mask_values(value)
            for key, value in call.items()
        }  # fmt: skip
    elif "call" in document:
        masked["call"] = call
    return {key: masked[key] for key in document}  # in the order sent


def numbers_in(document: Any, extra: Iterable[Any] = ()) -> set[str]:
    """The numbers :func:`mask_document` would hide in ``document``, plus ``extra``: what
    to look for in text that may repeat them (an answer's body)."""
    found = {value for value in extra if isinstance(value, str)}
    if isinstance(document, Mapping):
        call = document.get("call")
        if isinstance(call, Mapping):
            found |= {call[key] for key in NUMBER_KEYS if isinstance(call.get(key), str)}
            found |= _phone_texts({k: v for k, v in call.items() if k != "id"})
        found |= _phone_texts({k: v for k, v in document.items() if k != "call"})
    return found


def _phone_texts(value: Any) -> set[str]:
    if isinstance(value, Mapping):
        return set().union(*(_phone_texts(inner) for inner in value.values()))
    if isinstance(value, list):
        return set().union(*(_phone_texts(inner) for inner in value))
    return {value.strip()} if looks_like_phone_number(value) else set()


def mask_text(text: str, numbers: Iterable[str]) -> str:
    """``text`` with each of ``numbers`` masked where it appears, as written or as its bare
    digits (a flow may read ``{{ call.from }}`` back, or speak only its digits)."""
    spellings: set[str] = set()
    for number in numbers:
        digits = "".join(ch for ch in number if ch.isdigit())
        if len(digits) > KEEP_DIGITS:
            spellings |= {number, digits}
    for spelling in sorted(spellings, key=len, reverse=True):
        text = text.replace(spelling, mask_number(spelling))
    return text


def mask_answer(request: Mapping[str, Any], body: str, *numbers: Any) -> tuple[dict, str]:
    """An answer's recorded request and body masked, ``numbers`` (its call's from/to) too."""
    return mask_document(request), mask_text(body, numbers_in(request, numbers))


def mask_record(record: dict[str, Any], keys: Iterable[str] = NUMBER_KEYS) -> dict[str, Any]:
    """A call record (list row or full record) with every phone number in it masked.

    ``keys`` name its number fields: ``from``/``to`` on the wire, the store's plain
    records keep them under their columns (``from_number``/``to_number``).
    """
    keys = tuple(keys)
    masked = {**record, **{key: mask_number(record.get(key)) for key in keys}}
    if "answers" in record:
        numbers = [record.get(key) for key in keys]
        masked["answers"] = [_masked_answer(answer, numbers) for answer in record["answers"]]
    if "events" in record:
        masked["events"] = [
            {**event, "body": mask_document(event["body"])} for event in record["events"]
        ]
    if "verifications" in record:
        masked["verifications"] = _masked_verifications(record, keys)
    if "pushes" in record:
        numbers = call_numbers(record, keys)
        masked["pushes"] = [mask_push(push, numbers) for push in record["pushes"]]
    return masked


def call_numbers(record: Mapping[str, Any], keys: Iterable[str] = NUMBER_KEYS) -> set[str]:
    """Every number a call's record holds: its ``keys`` (``from``/``to``) and those of each
    answer's recorded request (kept before redaction was turned on, they may be whole)."""
    numbers = numbers_in({}, [record.get(key) for key in keys])
    for answer in record.get("answers", []):
        numbers |= numbers_in(answer["request"])
    return numbers


def mask_push(push: dict[str, Any], numbers: Iterable[str] = ()) -> dict[str, Any]:
    """A push (``toneflow push``) with ``numbers`` (its call's) masked, and any digits it
    sent that look like a phone number, wherever they appear: the digits, each request's
    URL and body, each reply and error."""
    found = set(numbers) | _phone_texts([send["digits"] for send in push["sends"]])

    def text(value: Any) -> Any:
        return mask_text(value, found) if isinstance(value, str) else value

    texts = ("url", "body", "reply", "error")
    return {
        **push,
        "sends": [{**send, "digits": text(send["digits"])} for send in push["sends"]],
        "requests": [
            {**sent, **{key: text(sent.get(key)) for key in texts if key in sent}}
            for sent in push["requests"]
        ],
        "error": text(push["error"]),
    }


def _masked_verifications(record: dict[str, Any], keys: tuple[str, ...]) -> list[dict]:
    """A recording's check, its texts masked with the call's numbers (kept before redaction
    was turned on, one may still hold them)."""
    numbers = call_numbers(record, keys)
    texts = ("recording", "served", "heard", "difference")
    return [
        {
            **check,
            **{key: mask_text(check[key], numbers) for key in texts if check.get(key)},
        }
        for check in record["verifications"]
    ]


def _masked_answer(answer: dict[str, Any], numbers: list[Any]) -> dict[str, Any]:
    request, body = mask_answer(answer["request"], answer.get("body", ""), *numbers)
    return {**answer, "request": request, **({"body": body} if "body" in answer else {})}
