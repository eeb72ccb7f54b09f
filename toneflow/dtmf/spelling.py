"""Writing tokens in a dialect's spelling: exactly, or failing at the source position.

Rendering is exact or fails naming the token's source position; asked to, it rounds
pauses *up*, never down, because too little silence is the usual cause of missed
digits. Pauses take the fewest characters (``WW``, not ``wwww``).

OzML has no text spelling for silence (it is a ``<Delay>`` element), so OzML is
checked here (:func:`check_writable`) but its groups are laid out by
:mod:`~toneflow.dtmf.ozml_timing` and written as XML by :mod:`toneflow.render.ozml`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

from toneflow.dtmf.dialects import DigitDialect, alphabet, digit_dialect
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.tokens import Key, Pause, Token, merge_pauses

# --- pause arithmetic ---------------------------------------------------------------


def _fewest(units: tuple[int, ...], ms: int) -> tuple[int, ...] | None:
    """Return how many of each unit spell exactly ``ms`` with the fewest characters.

    None when ``ms`` cannot be spelled. Beyond a bound every optimal spelling is
    "as many of the longest unit as fit, then a short remainder", so only the
    remainder is searched and the cost stays small for any pause length.
    """
    step = functools.reduce(math.gcd, units)
    if ms % step:
        return None
    longest = units[0]
    # Copies of a shorter unit u adding up to lcm(u, longest) are always better written
    # with the longest unit, so an optimal spelling has less than this in shorter units.
    bound = sum(u * longest // math.gcd(u, longest) for u in units[1:])
    bulk = max(0, (ms - bound) // longest)
    rest = _search(tuple(u // step for u in units), (ms - bulk * longest) // step)
    return None if rest is None else (rest[0] + bulk, *rest[1:])


def _search(units: tuple[int, ...], amount: int) -> tuple[int, ...] | None:
    """Fewest-characters spelling of a small ``amount``, by dynamic programming."""
    best: dict[int, tuple[int, ...]] = {0: (0,) * len(units)}
    for total in range(1, amount + 1):
        options = [(sum(best[total - u]), i) for i, u in enumerate(units) if total - u in best]
        if options:
            # fewest characters; on a tie the longest unit, so 1500 ms is "Ww"
            _, i = min(options)
            counts = list(best[total - units[i]])
            counts[i] += 1
            best[total] = tuple(counts)
    return best.get(amount)


def _round_up(units: tuple[int, ...], ms: int) -> int:
    """Return the shortest expressible pause of at least ``ms`` (never shorter)."""
    step = functools.reduce(math.gcd, units)
    candidate = -(-ms // step) * step
    while _fewest(units, candidate) is None:
        candidate += step
    return candidate


def _pause_ms(d: DigitDialect, pause: Pause, round_up: bool, char: str | None) -> int:
    """Return the length ``d`` will write for ``pause``, or raise DtmfError."""
    shown = f"{char!r} " if char else ""
    if pause.position is None:  # pause_before_ms: it has no place in the digits text
        where = f"the {pause.ms} ms pause before the digits"
    else:
        where = f"the {pause.ms} ms pause {shown}at position {pause.position}"
    if not d.pause_units:
        raise DtmfError(
            f"cannot write {where} in {d.name}, which has no pauses",
            char=char,
            position=pause.position,
            dialect=d.name,
        )
    if _fewest(d.pause_units, pause.ms) is not None:
        return pause.ms
    nearest = _round_up(d.pause_units, pause.ms)
    if round_up:
        return nearest
    raise DtmfError(
        f"cannot write {where} exactly in {d.name}; rounding up would make it {nearest} ms",
        char=char,
        position=pause.position,
        dialect=d.name,
    )


def _spell_pause(d: DigitDialect, ms: int) -> str:
    counts = _fewest(d.pause_units, ms)
    assert counts is not None  # _pause_ms chose an expressible length
    chars = [next(c for c, v in d.pauses.items() if v == unit) for unit in d.pause_units]
    return "".join(char * n for char, n in zip(chars, counts, strict=True))


# --- keys ---------------------------------------------------------------------------


def spell_key(d: DigitDialect, key: Key, char: str | None) -> str:
    """``d``'s character for ``key``, or DtmfError naming ``char`` (as written) and where."""
    spelled = d.spell_key(key.key)
    if spelled is None:
        shown = f"{char!r} ({key.key})" if char and char != key.key else repr(key.key)
        raise DtmfError(
            f"cannot send key {shown} at position {key.position} in {d.name} "
            f"({d.name} allows {alphabet(d.name)})",
            char=char or key.key,
            position=key.position,
            dialect=d.name,
        )
    return spelled


def unsendable(seq: Iterable[Token], dialect: str) -> list[DtmfError]:
    """One error per key in ``seq`` that ``dialect`` cannot send (``A`` in OzML), in order.

    For lint, which names every such key with its position rather than the first only.
    """
    d = digit_dialect(dialect)
    errors: list[DtmfError] = []
    for token in seq:
        if isinstance(token, Key):
            try:
                spell_key(d, token, None)
            except DtmfError as err:
                errors.append(err)
    return errors


# --- render -------------------------------------------------------------------------


def render(
    seq: Iterable[Token], dialect: str, *, round_up: bool = False, source: str | None = None
) -> str:
    """Write ``seq`` in ``dialect``'s spelling, exactly, or raise DtmfError.

    A key the dialect lacks, or a pause it cannot express exactly, fails naming the
    token's source position (and, given the ``source`` text ``seq`` was parsed from, the
    character as the author wrote it). ``round_up=True`` lengthens such a pause to the
    nearest expressible length instead; a dialect with no pauses still fails. OzML has
    no text spelling: ValueError (``toneflow.render.ozml.dtmf_fragment`` writes it).
    """
    d = digit_dialect(dialect)
    if d.delay_unit_ms is not None:
        raise ValueError(
            f"{d.name} writes silence as elements, not text: "
            "toneflow.render.ozml.dtmf_fragment writes it"
        )
    tokens = merge_pauses(seq)
    if not tokens:
        # "" would not parse back in any dialect, so it is no exact rendering
        raise DtmfError("DTMF sequence is empty", dialect=dialect)
    return "".join(_write(d, token, round_up, source) for token in tokens)


def convert(text: str, from_dialect: str, to_dialect: str, *, round_up: bool = False) -> str:
    """Re-spell ``text`` from one dialect in another, exactly unless ``round_up``."""
    return render(parse(text, from_dialect), to_dialect, round_up=round_up, source=text)


def check_writable(
    seq: Iterable[Token], dialect: str, *, round_up: bool = False, source: str | None = None
) -> None:
    """Raise the first DtmfError writing ``seq`` in ``dialect`` meets, in order.

    The same checks as :func:`render`, for a dialect whose silence is not text (OzML).
    """
    d = digit_dialect(dialect)
    for token in seq:  # in order, so the first offending token is the one reported
        _write(d, token, round_up, source)


def _write(d: DigitDialect, token: Token, round_up: bool, source: str | None) -> str:
    """One token in ``d``'s spelling ("" for silence ``d`` writes as an element)."""
    char = source[token.position - 1] if source and token.position is not None else None
    if isinstance(token, Key):
        return spell_key(d, token, char)
    ms = _pause_ms(d, token, round_up, char)
    return "" if d.delay_unit_ms is not None else _spell_pause(d, ms)
