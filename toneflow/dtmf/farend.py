"""A far-end IVR simulator: which of the keys a call sends the system at the far end hears.

Pure: it reads wire plans (:mod:`toneflow.dtmf.wire`, the plan the timeline and the audio
use) and a description of the far end, and says each key's fate. The far end plays its
prompts in order. While a prompt plays, a key is either discarded (Asterisk's
``Playback()``, Amazon Connect's "Play prompt") or taken, cutting the prompt short
(``BackGround()``, TwiML ``<Gather>``). After the prompt its entry waits: the first key
within ``first_key_timeout_ms`` of the prompt's end, each next within
``inter_key_timeout_ms`` of the one before; the entry ends at its terminator, at its
``keys``-th key, or when a timeout passes (the figures in far-end-ivrs notes: TwiML 5 s
and ``#``, FreeSWITCH 1.5 s between keys). Then the next prompt starts. A key arrives when
its tone starts; once the last entry has ended, every later key is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from toneflow.dtmf.wire import Silence, Tone, WirePlan

DEFAULT_TIMEOUT_MS = 5000
"""First-key and inter-key timeout when the description gives none (TwiML ``timeout``)."""
DEFAULT_TERMINATOR = "#"
"""The key that ends an entry when the description gives none (TwiML ``finishOnKey``)."""

LANDED = "landed"
DISCARDED = "discarded"
LOST = "lost"

TERMINATOR = "terminator"
KEY_COUNT = "keys"
FIRST_KEY_TIMEOUT = "first_key_timeout"
INTER_KEY_TIMEOUT = "inter_key_timeout"
NO_INPUT = "no_input"


@dataclass(frozen=True)
class Prompt:
    """One prompt and the entry after it. ``keys`` is how many keys the entry takes
    (None: until the terminator or a timeout; 0: none, so keys during it are discarded)."""

    name: str
    ms: int
    discards: bool = False
    keys: int | None = None
    terminator: str | None = DEFAULT_TERMINATOR
    first_key_timeout_ms: int = DEFAULT_TIMEOUT_MS
    inter_key_timeout_ms: int = DEFAULT_TIMEOUT_MS

    @property
    def drops_keys(self) -> bool:
        """Keys arriving while it plays are discarded (it says so, or it takes none)."""
        return self.discards or self.keys == 0


@dataclass(frozen=True)
class Arrival:
    """A key as it reaches the far end: when, after how much silence, from which send."""

    key: str
    at_ms: int
    silence_before_ms: int
    send: int
    position: int


@dataclass(frozen=True)
class Fate:
    """What became of one key: ``landed`` in ``prompt``'s entry, ``discarded`` while
    ``prompt`` played (``start_ms``-``end_ms``), or ``lost`` after the far end stopped
    listening at ``start_ms``."""

    arrival: Arrival
    kind: str
    prompt: str | None
    start_ms: int
    end_ms: int
    ends_entry: bool = False


@dataclass(frozen=True)
class Entry:
    """One prompt's turn: when it played, what its entry took, and what ended it."""

    prompt: str
    start_ms: int
    played_until_ms: int
    keys: str
    ended_ms: int
    ended_by: str


@dataclass(frozen=True)
class Hearing:
    """The simulation's result: every key's fate, in order sent, and every prompt's entry."""

    fates: tuple[Fate, ...]
    entries: tuple[Entry, ...]

    @property
    def received(self) -> str:
        """Every key that landed, in order, terminators included."""
        return "".join(f.arrival.key for f in self.fates if f.kind == LANDED)

    @property
    def inputs(self) -> dict[str, str]:
        """Each prompt's entry, terminator excluded (what the IVR's logic is handed)."""
        return {e.prompt: e.keys for e in self.entries if e.ended_by != NO_INPUT}


def arrivals(plans: Iterable[WirePlan]) -> tuple[Arrival, ...]:
    """The keys of ``plans`` (the call's sends, in order) laid end to end from 0.

    Each send starts where the one before it ended; nothing else takes time.
    """
    found: list[Arrival] = []
    offset = 0
    for send, plan in enumerate(plans, 1):
        silence = 0
        for segment in plan.segments:
            if isinstance(segment, Silence):
                silence += segment.end_ms - segment.start_ms
            elif isinstance(segment, Tone):
                at = offset + segment.start_ms
                found.append(Arrival(segment.key, at, silence, send, segment.position))
                silence = 0
        offset += plan.total_ms
    return tuple(found)


def simulate(prompts: Sequence[Prompt], keys: Sequence[Arrival]) -> Hearing:
    """Play ``keys`` (in time order) against ``prompts``; every key gets exactly one fate."""
    if [k.at_ms for k in keys] != sorted(k.at_ms for k in keys):
        raise ValueError("keys must be in time order")
    fates: list[Fate] = []
    entries: list[Entry] = []
    queue = list(keys)
    now = 0
    for prompt in prompts:
        entry = _turn(prompt, now, queue, fates)
        entries.append(entry)
        now = entry.ended_ms
    last = prompts[-1].name if prompts else None
    fates += [Fate(k, LOST, last, now, now) for k in queue]
    return Hearing(tuple(fates), tuple(entries))


def _turn(prompt: Prompt, start: int, queue: list[Arrival], fates: list[Fate]) -> Entry:
    """One prompt plays from ``start`` and its entry collects: consumes ``queue``'s head."""
    end = start + prompt.ms
    if prompt.drops_keys:
        while queue and queue[0].at_ms < end:
            fates.append(Fate(queue.pop(0), DISCARDED, prompt.name, start, end))
        if prompt.keys == 0:
            return Entry(prompt.name, start, end, "", end, NO_INPUT)
    played_until = min(end, queue[0].at_ms) if queue else end
    deadline = played_until + prompt.first_key_timeout_ms if played_until == end else end
    taken = ""
    while queue and (queue[0].at_ms < deadline or queue[0].at_ms < end):
        key = queue.pop(0)
        if key.key == prompt.terminator:
            fates.append(Fate(key, LANDED, prompt.name, start, key.at_ms, ends_entry=True))
            return Entry(prompt.name, start, played_until, taken, key.at_ms, TERMINATOR)
        taken += key.key
        full = prompt.keys is not None and len(taken) >= prompt.keys
        fates.append(Fate(key, LANDED, prompt.name, start, key.at_ms, ends_entry=full))
        if full:
            return Entry(prompt.name, start, played_until, taken, key.at_ms, KEY_COUNT)
        deadline = key.at_ms + prompt.inter_key_timeout_ms
    timeout = INTER_KEY_TIMEOUT if taken else FIRST_KEY_TIMEOUT
    return Entry(prompt.name, start, played_until, taken, deadline, timeout)


# --- for people ---------------------------------------------------------------------------


def seconds(ms: int) -> str:
    """``4000`` -> ``4.0 s``, ``4550`` -> ``4.55 s``: as short as exact, one decimal at least."""
    text = f"{ms / 1000:.3f}".rstrip("0")
    return f"{text}0 s" if text.endswith(".") else f"{text} s"


#: Between the ends of a span, as people write ``0\N{EN DASH}4.5 s``.
EN_DASH = "\N{EN DASH}"


def _span(start: int, end: int) -> str:
    """When a prompt played: from 0, or from 4.8, an en dash, then 7.8 s."""
    return f"{'0' if start == 0 else seconds(start).removesuffix(' s')}{EN_DASH}{seconds(end)}"


_ENDED_BY = {
    TERMINATOR: "its terminator",
    KEY_COUNT: "its last key",
    FIRST_KEY_TIMEOUT: "its first-key timeout, no key came",
    INTER_KEY_TIMEOUT: "its inter-key timeout",
    NO_INPUT: "its end (it takes no input)",
}


def explain(fate: Fate, hearing: Hearing) -> str:
    """Why a key that did not land did not, and what to change (how long to wait)."""
    a = fate.arrival
    head = f"key {a.key} at {seconds(a.at_ms)}"
    if fate.kind == DISCARDED:
        wait = a.silence_before_ms + fate.end_ms - a.at_ms
        return (
            f"{head} arrived during {fate.prompt!r} ({_span(fate.start_ms, fate.end_ms)}), "
            f"which discards input: wait at least {seconds(wait)}"
        )
    if fate.kind == LOST:
        last = hearing.entries[-1] if hearing.entries else None
        why = f" ({last.prompt!r} ended by {_ENDED_BY[last.ended_by]})" if last else ""
        return f"{head} was lost: the far end stopped listening at {seconds(fate.start_ms)}{why}"
    return f"{head} landed in {fate.prompt!r}"


def first_miss(hearing: Hearing) -> Fate | None:
    """The first key that did not land, or None."""
    return next((f for f in hearing.fates if f.kind != LANDED), None)


def account(hearing: Hearing) -> list[str]:
    """One line per key, then one per prompt: the far end's side of the call."""
    lines = []
    for fate in hearing.fates:
        a = fate.arrival
        if fate.kind == LANDED:
            what = f"landed in {fate.prompt!r}" + (" (ends its entry)" if fate.ends_entry else "")
        elif fate.kind == DISCARDED:
            what = f"discarded during {fate.prompt!r} ({_span(fate.start_ms, fate.end_ms)})"
        else:
            what = f"lost (not listening after {seconds(fate.start_ms)})"
        lines.append(
            f"key {a.key} at {seconds(a.at_ms)} (send {a.send}, position {a.position}): {what}"
        )
    for entry in hearing.entries:
        if entry.ended_by == NO_INPUT:
            lines.append(f"prompt {entry.prompt!r} played {_span(entry.start_ms, entry.ended_ms)}")
            continue
        lines.append(
            f"prompt {entry.prompt!r} played {_span(entry.start_ms, entry.played_until_ms)}, "
            f"took {entry.keys!r}, ended at {seconds(entry.ended_ms)} by "
            f"{_ENDED_BY[entry.ended_by]}"
        )
    return lines
