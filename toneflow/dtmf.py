"""The DTMF model: every digit rule toneflow has, in one pure module.

A DTMF sequence is parsed once, from one dialect's spelling, into a tuple of tokens:
``Key`` (one of ``0-9 * # A-D``) and ``Pause`` (silence, in milliseconds). Tokens
remember the 1-based character position they came from, so any error found later
(a key another platform lacks, a pause it cannot express) still points at the
character the flow author typed. Positions never take part in equality: two sequences
are equal when they sound the same.

Sequences are kept normalised: adjacent pauses merge into one (it keeps the first
position) and zero-length pauses vanish. Only then does "the same sequence" mean one
thing, which is what makes ``parse(render(s, d), d) == s`` hold.

Dialects differ only in spelling, so each is one row of ``_DIALECTS``: which character
writes which key, which character writes how much silence, and, for OzML, that
silence is a separate ``<Delay>`` element of whole seconds. Rendering is exact or
fails naming the source position; asked to, it rounds pauses *up*, never down,
because too little silence is the usual cause of missed digits.

No Flask, no SQL: schemas, lint, the renderers and the CLI all call this module.
"""

from __future__ import annotations

import functools
import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

__all__ = [
    "DEFAULT_MAX_DIGITS",
    "DIALECTS",
    "KEYS",
    "OZML_PARTIES",
    "DtmfError",
    "Key",
    "OzmlDelay",
    "OzmlKeys",
    "Pause",
    "RoundingNote",
    "Timeline",
    "TimelineWarning",
    "Token",
    "ToneSpan",
    "alphabet",
    "convert",
    "normalise",
    "ozml_elements",
    "ozml_segments",
    "parse",
    "render",
    "rounding_notes",
    "timeline",
    "whole_seconds",
]

DEFAULT_MAX_DIGITS = 128
"""Longest accepted ``digits`` string, in characters (``TONEFLOW_MAX_DIGITS``)."""

KEYS = "0123456789*#ABCD"
"""Every key a DTMF keypad has: the sixteen tones of the standard."""

OZML_PARTIES = ("caller", "callee", "all")
"""Values Ozeki documents for ``SendDTMF Party``."""

_DIGITS = "0123456789"


# --- tokens -------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One key press; ``position`` is where it was written (1-based), not part of equality."""

    key: str
    position: int = field(compare=False)

    def __post_init__(self) -> None:
        if len(self.key) != 1 or self.key not in KEYS:
            raise ValueError(f"not a DTMF key: {self.key!r} (keys are {KEYS})")


@dataclass(frozen=True)
class Pause:
    """Silence of ``ms`` milliseconds; ``position`` is where the run of pause characters began
    (None for a pause that is not in the text, such as ``pause_before_ms``)."""

    ms: int
    position: int | None = field(compare=False)

    def __post_init__(self) -> None:
        if self.ms < 0:
            raise ValueError(f"a pause cannot be negative: {self.ms} ms")


Token: TypeAlias = Key | Pause
"""One element of a parsed sequence."""


def normalise(tokens: Iterable[Token]) -> tuple[Token, ...]:
    """Merge adjacent pauses and drop empty ones, so equal sounds compare equal.

    The merged pause keeps the first position, which is where its run began.
    """
    out: list[Token] = []
    for token in tokens:
        if isinstance(token, Pause):
            if token.ms == 0:
                continue
            if out and isinstance(out[-1], Pause):
                out[-1] = Pause(out[-1].ms + token.ms, out[-1].position)
                continue
        out.append(token)
    return tuple(out)


# --- dialects -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Dialect:
    """How one platform spells a sequence; adding a platform is adding one of these."""

    name: str
    keys: Mapping[str, str]  # character in this dialect -> key it sends
    pauses: Mapping[str, int]  # character in this dialect -> silence in ms
    delay_unit_ms: int | None = None  # silence is a separate element, whole multiples of this
    max_run: int | None = None  # most keys the platform takes in one run, when documented

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

_DIALECTS: dict[str, _Dialect] = {
    d.name: d
    for d in (
        _Dialect("minivoice", _same(KEYS), {**_W, ",": 500}),
        _Dialect("ozml", _same("0123456789*#"), {}, delay_unit_ms=1000),
        _Dialect("vicidial", {**_same(_DIGITS), "P": "#", "S": "*"}, {"Q": 1000}),
        _Dialect("vobiz", _same("0123456789*#"), _W),
        _Dialect("genesys", _same(_DIGITS), {}),
        _Dialect("twilio", _same(KEYS), _W, max_run=32),
        _Dialect("asterisk", _same(KEYS), _W),
    )
}

DIALECTS: tuple[str, ...] = tuple(_DIALECTS)
"""Names of every dialect toneflow can parse or render."""


def _dialect(name: str) -> _Dialect:
    try:
        return _DIALECTS[name]
    except KeyError:
        known = ", ".join(DIALECTS)
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
    d = _dialect(dialect)
    return "".join(d.keys) + "".join(d.pauses)


def alphabet(dialect: str) -> str:
    """Return the characters ``dialect`` accepts, compactly, for messages and docs.

    ``alphabet("minivoice") == "0-9 * # A-D w W ,"``.
    """
    d = _dialect(dialect)
    return " ".join(_ranges(list(d.keys)) + list(d.pauses))


# --- errors -------------------------------------------------------------------------


class DtmfError(ValueError):
    """A sequence that breaks a DTMF rule, saying which character and where.

    A ``ValueError`` so schema validators can let it through unchanged; the
    attributes let lint turn ``position`` into a line and column.
    """

    def __init__(
        self,
        message: str,
        *,
        char: str | None = None,
        position: int | None = None,
        dialect: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.char = char
        self.position = position
        self.dialect = dialect

    def __str__(self) -> str:
        return self.message


# --- parse --------------------------------------------------------------------------


def parse(text: str, dialect: str, *, max_length: int | None = None) -> tuple[Token, ...]:
    """Read ``text`` as ``dialect`` spells it into a normalised token tuple.

    Raises DtmfError for empty text, text over ``max_length`` characters, or any
    character the dialect lacks; ValueError for an unknown dialect. OzML is parsed as
    a plain ``Keys`` value (``0-9 * #``): its silence lives in other elements.
    """
    d = _dialect(dialect)
    if not text:
        raise DtmfError("DTMF sequence is empty", dialect=dialect)
    if max_length is not None and len(text) > max_length:
        raise DtmfError(
            f"DTMF sequence is {len(text)} characters long; the limit is {max_length}",
            dialect=dialect,
        )
    return normalise(_token(d, char, position) for position, char in enumerate(text, 1))


def _token(d: _Dialect, char: str, position: int) -> Token:
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


def _pause_ms(d: _Dialect, pause: Pause, round_up: bool, char: str | None) -> int:
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


def _spell_pause(d: _Dialect, ms: int) -> str:
    counts = _fewest(d.pause_units, ms)
    assert counts is not None  # _pause_ms chose an expressible length
    chars = [next(c for c, v in d.pauses.items() if v == unit) for unit in d.pause_units]
    return "".join(char * n for char, n in zip(chars, counts, strict=True))


# --- render -------------------------------------------------------------------------


def render(seq: Iterable[Token], dialect: str, *, round_up: bool = False) -> str:
    """Write ``seq`` in ``dialect``'s spelling, exactly, or raise DtmfError.

    A key the dialect lacks, or a pause it cannot express exactly, fails naming the
    token's source position. ``round_up=True`` lengthens such a pause to the nearest
    expressible length instead; a dialect with no pauses still fails. Pauses take the
    fewest characters (``WW``, not ``wwww``). OzML returns its XML fragment
    (``<Delay>``/``<SendDTMF Party="callee">`` elements).
    """
    d = _dialect(dialect)
    tokens = normalise(seq)
    if not tokens:
        # "" would not parse back in any dialect, so it is no exact rendering
        raise DtmfError("DTMF sequence is empty", dialect=dialect)
    return _render(tokens, d, round_up=round_up, source=None)


def convert(text: str, from_dialect: str, to_dialect: str, *, round_up: bool = False) -> str:
    """Re-spell ``text`` from one dialect in another, exactly unless ``round_up``."""
    seq = parse(text, from_dialect)
    return _render(seq, _dialect(to_dialect), round_up=round_up, source=text)


def _render(seq: tuple[Token, ...], d: _Dialect, *, round_up: bool, source: str | None) -> str:
    def source_char(token: Token) -> str | None:
        return source[token.position - 1] if source else None

    parts: list[str] = []
    for token in seq:  # in order, so the first offending token is the one reported
        if isinstance(token, Key):
            parts.append(_spell_key(d, token, source_char(token)))
        elif d.delay_unit_ms is None:
            parts.append(_spell_pause(d, _pause_ms(d, token, round_up, source_char(token))))
        else:
            _pause_ms(d, token, round_up, source_char(token))  # checked; OzML writes it below
    if d.delay_unit_ms is None:
        return "".join(parts)
    elements = ozml_elements(ozml_segments(seq), "callee")
    return "".join(ET.tostring(e, encoding="unicode") for e in elements)


def _spell_key(d: _Dialect, key: Key, char: str | None) -> str:
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


# --- OzML ---------------------------------------------------------------------------


def whole_seconds(ms: int) -> int:
    """Round ``ms`` up to whole seconds, as OzML's ``Delay`` and ``Timeout`` need.

    Up, never down: too little silence or too short a timeout loses digits, while a
    little extra is harmless.
    """
    if ms < 0:
        raise ValueError(f"a duration cannot be negative: {ms} ms")
    return -(-ms // 1000)


@dataclass(frozen=True)
class OzmlDelay:
    """A ``<Delay>``: ``seconds`` written, ``exact_ms`` asked for (rounded up to seconds).

    ``position`` is where the pause began; None when it is ``pause_before_ms`` alone.
    ``includes_pause_before`` says ``pause_before_ms`` is part of ``exact_ms``.
    """

    seconds: int
    exact_ms: int
    position: int | None = field(compare=False)
    includes_pause_before: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class OzmlKeys:
    """A ``<SendDTMF Keys=…>``: one run of keys, ``position`` of its first key."""

    keys: str
    position: int = field(compare=False)


@dataclass(frozen=True)
class _PauseRun:
    ms: int
    position: int | None
    includes_pause_before: bool


def _pause_runs(seq: Iterable[Token], pause_before_ms: int) -> Iterator[_PauseRun | Key]:
    """Yield keys, and each run of silence with ``pause_before_ms`` joining the first."""
    if pause_before_ms < 0:
        raise ValueError(f"pause_before_ms cannot be negative: {pause_before_ms}")
    tokens = normalise(seq)
    pending = _PauseRun(pause_before_ms, None, pause_before_ms > 0)
    if tokens and isinstance(tokens[0], Pause):
        first = tokens[0]
        pending = _PauseRun(pause_before_ms + first.ms, first.position, pause_before_ms > 0)
        tokens = tokens[1:]
    if pending.ms:
        yield pending
    for token in tokens:
        yield token if isinstance(token, Key) else _PauseRun(token.ms, token.position, False)


def ozml_segments(seq: Iterable[Token], *, pause_before_ms: int = 0) -> list[OzmlDelay | OzmlKeys]:
    """Split ``seq`` into the Delay and SendDTMF elements OzML needs, in order.

    Each run of silence becomes one Delay of whole seconds, rounded up (too little
    silence is the usual cause of missed digits; too much is harmless), with
    ``pause_before_ms`` joining a pause that opens the digits. A zero pause writes no
    Delay. ``A-D`` raise DtmfError: Ozeki documents only ``0-9 * #`` for ``Keys``.
    """
    ozml = _DIALECTS["ozml"]
    segments: list[OzmlDelay | OzmlKeys] = []
    for item in _pause_runs(seq, pause_before_ms):
        if isinstance(item, _PauseRun):
            seconds = whole_seconds(item.ms)
            segments.append(OzmlDelay(seconds, item.ms, item.position, item.includes_pause_before))
            continue
        char = _spell_key(ozml, item, None)
        last = segments[-1] if segments else None
        if isinstance(last, OzmlKeys):
            segments[-1] = OzmlKeys(last.keys + char, last.position)
        else:
            segments.append(OzmlKeys(char, item.position))
    return segments


def unsendable(seq: Iterable[Token], dialect: str) -> list[DtmfError]:
    """One error per key in ``seq`` that ``dialect`` cannot send (``A`` in OzML), in order.

    For lint, which names every such key with its position rather than the first only.
    """
    d = _dialect(dialect)
    errors: list[DtmfError] = []
    for token in seq:
        if isinstance(token, Key):
            try:
                _spell_key(d, token, None)
            except DtmfError as err:
                errors.append(err)
    return errors


def ozml_elements(segments: Iterable[OzmlDelay | OzmlKeys], party: str) -> list[ET.Element]:
    """Build ``<Delay>3</Delay>`` and ``<SendDTMF Party=… Keys=…/>`` elements.

    Built with ElementTree so every value is escaped by the XML library.
    """
    if party not in OZML_PARTIES:
        raise ValueError(f"unknown OzML party {party!r} (known: {', '.join(OZML_PARTIES)})")
    elements: list[ET.Element] = []
    for segment in segments:
        if isinstance(segment, OzmlDelay):
            delay = ET.Element("Delay")
            delay.text = str(segment.seconds)
            elements.append(delay)
        else:
            elements.append(ET.Element("SendDTMF", {"Party": party, "Keys": segment.keys}))
    return elements


@dataclass(frozen=True)
class RoundingNote:
    """A pause OzML will lengthen to whole seconds; ``str()`` is the lint message."""

    exact_ms: int
    seconds: int
    position: int | None
    includes_pause_before: bool = False

    def __str__(self) -> str:
        if self.position is None:
            where = "before the digits (pause_before_ms)"
        elif self.includes_pause_before:
            where = f"at position {self.position} (with pause_before_ms)"
        else:
            where = f"at position {self.position}"
        return f"a {self.exact_ms} ms pause {where} becomes {self.seconds} s in OzML"


def rounding_notes(seq: Iterable[Token], *, pause_before_ms: int = 0) -> list[RoundingNote]:
    """List every pause OzML would round up, for lint to warn about.

    Works on sequences with ``A-D`` too: lint reports those separately.
    """
    notes: list[RoundingNote] = []
    for item in _pause_runs(seq, pause_before_ms):
        if isinstance(item, _PauseRun) and item.ms % 1000:
            seconds = whole_seconds(item.ms)
            notes.append(RoundingNote(item.ms, seconds, item.position, item.includes_pause_before))
    return notes


# --- timeline -----------------------------------------------------------------------


@dataclass(frozen=True)
class ToneSpan:
    """When one key sounds, in ms from the start of the send."""

    key: str
    position: int
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class TimelineWarning:
    """A timing risk: ``code`` for machines, ``message`` for people, and where."""

    code: str
    message: str
    position: int | None


@dataclass(frozen=True)
class Timeline:
    """Every tone's start and end, how long the send takes, and what looks risky."""

    tones: tuple[ToneSpan, ...]
    total_ms: int
    warnings: tuple[TimelineWarning, ...]


def timeline(
    seq: Iterable[Token],
    *,
    tone_ms: int = 100,
    gap_ms: int = 100,
    pause_before_ms: int = 0,
    dialect: str | None = None,
) -> Timeline:
    """Lay ``seq`` out in time and warn about what makes far ends miss digits.

    Each key sounds for ``tone_ms``; adjacent keys are ``gap_ms`` apart; a pause
    replaces the gap where it stands. Time 0 is the start of the send action, so
    ``pause_before_ms`` comes first and ``total_ms`` includes it. With ``dialect``,
    runs of keys longer than that platform's documented limit are flagged too.
    """
    if tone_ms <= 0 or gap_ms < 0 or pause_before_ms < 0:
        raise ValueError("tone_ms must be positive; gap_ms and pause_before_ms not negative")
    max_run = _dialect(dialect).max_run if dialect is not None else None
    tokens = normalise(seq)
    tones: list[ToneSpan] = []
    now = pause_before_ms
    previous: Token | None = None
    for token in tokens:
        if isinstance(token, Pause):
            now += token.ms
        else:
            if isinstance(previous, Key):
                now += gap_ms
            tones.append(ToneSpan(token.key, token.position, now, now + tone_ms))
            now += tone_ms
        previous = token
    warnings = [
        *_no_pause_warning(tokens, pause_before_ms),
        *_repeat_warnings(tokens, gap_ms),
        *_run_warnings(tokens, dialect, max_run),
    ]
    warnings.sort(key=lambda w: w.position or 0)
    return Timeline(tuple(tones), now, tuple(warnings))


def _no_pause_warning(tokens: tuple[Token, ...], pause_before_ms: int) -> list[TimelineWarning]:
    if pause_before_ms or not tokens or isinstance(tokens[0], Pause):
        return []
    message = (
        "digits start the moment the call connects; the far end may not be listening "
        "yet (add pause_before_ms or a leading pause)"
    )
    return [TimelineWarning("no_pause_after_connect", message, tokens[0].position)]


def _repeat_warnings(tokens: tuple[Token, ...], gap_ms: int) -> list[TimelineWarning]:
    warnings = []
    for before, after in itertools.pairwise(tokens):
        if isinstance(before, Key) and isinstance(after, Key) and before.key == after.key:
            message = (
                f"{after.key!r} at position {after.position} repeats the key before it "
                f"with only the {gap_ms} ms gap; some receivers hear one press"
            )
            warnings.append(TimelineWarning("repeated_key", message, after.position))
    return warnings


def _run_warnings(
    tokens: tuple[Token, ...], dialect: str | None, max_run: int | None
) -> list[TimelineWarning]:
    if max_run is None:
        return []
    warnings = []
    run = 0
    for token in tokens:
        run = run + 1 if isinstance(token, Key) else 0
        if run == max_run + 1:
            message = (
                f"key at position {token.position} is number {run} in a run without a "
                f"pause; {dialect} takes at most {max_run}"
            )
            warnings.append(TimelineWarning("run_too_long", message, token.position))
    return warnings
