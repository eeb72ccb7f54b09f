"""The digit dialects: how each platform spells keys and silence, one row each.

Dialects differ only in spelling, so each is one :class:`DigitDialect`: which character
writes which key, which character writes how much silence, and, for OzML, that silence
is a separate ``<Delay>`` element of whole seconds. Adding a platform is adding a row.

These are *digit* dialects (seven platforms' ways of writing DTMF), not the answer
dialects (MiniVoice JSON, OzML XML) that :data:`toneflow.request.ANSWER_DIALECTS` names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from toneflow.dtmf.tokens import KEYS

_DIGITS = "0123456789"


@dataclass(frozen=True)
class DigitDialect:
    """How one platform spells a sequence."""

    name: str
    keys: Mapping[str, str]  # character in this dialect -> key it sends
    pauses: Mapping[str, int]  # character in this dialect -> silence in ms
    delay_unit_ms: int | None = None  # silence is a separate element, whole multiples of this
    max_run: int | None = None  # most keys the platform takes in one run, when documented
    # On the wire (toneflow.dtmf.wire): a pause stands in the gap's place (True) or is
    # added after the gap that follows a key (False, as Asterisk and FreeSWITCH send).
    pause_replaces_gap: bool = False

    def spell_key(self, key: str) -> str | None:
        """Return this dialect's character for ``key``, or None when it cannot send it."""
        return next((char for char, k in self.keys.items() if k == key), None)

    @property
    def pause_units(self) -> tuple[int, ...]:
        """Distinct pause lengths, longest first; the first character listed spells each."""
        if self.delay_unit_ms is not None:
            return (self.delay_unit_ms,)
        return tuple(sorted(set(self.pauses.values()), reverse=True))


def _same(chars: str) -> dict[str, str]:
    return {char: char for char in chars}


_W = {"w": 500, "W": 1000}

_BY_NAME: dict[str, DigitDialect] = {
    d.name: d
    for d in (
        DigitDialect("minivoice", _same(KEYS), {**_W, ",": 500}),
        DigitDialect(
            "ozml", _same("0123456789*#"), {}, delay_unit_ms=1000, pause_replaces_gap=True
        ),
        DigitDialect("vicidial", {**_same(_DIGITS), "P": "#", "S": "*"}, {"Q": 1000}),
        DigitDialect("vobiz", _same("0123456789*#"), _W),
        DigitDialect("genesys", _same(_DIGITS), {}),
        DigitDialect("twilio", _same(KEYS), _W, max_run=32),
        DigitDialect("asterisk", _same(KEYS), _W),
    )
}

DIGIT_DIALECTS: tuple[str, ...] = tuple(_BY_NAME)
"""Names of every digit dialect toneflow can parse or render."""


def digit_dialect(name: str) -> DigitDialect:
    """The dialect called ``name``; ValueError listing the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(DIGIT_DIALECTS)
        raise ValueError(f"unknown DTMF dialect {name!r} (known: {known})") from None


def _ranges(chars: Sequence[str]) -> list[str]:
    """Write runs of three or more consecutive characters as ``a-b`` (``0-9``, ``A-D``)."""
    parts: list[str] = []
    i = 0
    while i < len(chars):
        j = i
        while j + 1 < len(chars) and ord(chars[j + 1]) == ord(chars[j]) + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{chars[i]}-{chars[j]}")
        else:
            parts.extend(chars[i : j + 1])
        i = j + 1
    return parts


def characters(dialect: str) -> str:
    """Every character ``dialect`` accepts, keys then pauses (for patterns: JSON Schema)."""
    d = digit_dialect(dialect)
    return "".join(d.keys) + "".join(d.pauses)


def alphabet(dialect: str) -> str:
    """Return the characters ``dialect`` accepts, compactly, for messages and docs.

    ``alphabet("minivoice") == "0-9 * # A-D w W ,"``.
    """
    d = digit_dialect(dialect)
    return " ".join(_ranges(list(d.keys)) + list(d.pauses))
