"""Reading a dialect's text into tokens, refusing what it cannot hold, by position.

A sequence is parsed once, from one dialect's spelling, into a tuple of
:mod:`~toneflow.dtmf.tokens` with its pauses merged. Every refusal is a
:class:`~toneflow.dtmf.errors.DtmfError` naming the character and its 1-based position.
"""

from __future__ import annotations

from toneflow.dtmf.dialects import DigitDialect, alphabet, digit_dialect
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.tokens import Key, Pause, Token, merge_pauses

DEFAULT_MAX_DIGITS = 128
"""Longest accepted ``digits`` string, in characters (``TONEFLOW_MAX_DIGITS``)."""


def parse(text: str, dialect: str, *, max_length: int | None = None) -> tuple[Token, ...]:
    """Read ``text`` as ``dialect`` spells it into a token tuple with its pauses merged.

    Raises DtmfError for empty text, text over ``max_length`` characters, or any
    character the dialect lacks; ValueError for an unknown dialect. OzML is parsed as
    a plain ``Keys`` value (``0-9 * #``): its silence lives in other elements.
    """
    d = digit_dialect(dialect)
    if not text:
        raise DtmfError("DTMF sequence is empty", dialect=dialect)
    if max_length is not None and len(text) > max_length:
        raise DtmfError(
            f"DTMF sequence is {len(text)} characters long; the limit is {max_length}",
            dialect=dialect,
        )
    return merge_pauses(_token(d, char, position) for position, char in enumerate(text, 1))


def _token(d: DigitDialect, char: str, position: int) -> Token:
    if char in d.keys:
        return Key(d.keys[char], position)
    if char in d.pauses:
        return Pause(d.pauses[char], position)
    raise DtmfError(
        f"invalid DTMF character {char!r} at position {position} "
        f"({d.name} allows {alphabet(d.name)})",
        char=char,
        position=position,
        dialect=d.name,
    )
