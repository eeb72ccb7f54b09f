"""One send as a platform's DTMF API takes it: the texts to send and the waits between.

A platform whose dialect can spell silence (VICIdial ``Q``, Vobiz ``w``/``W``) takes a
send as one text, ``pause_before_ms`` written as a leading pause: exactly, or failing
at the character (``round_up`` lengthens a pause, never shortens one). A platform that
has no pause characters (Genesys: ``0-9`` only) takes each run of keys as its own
request and the sender waits out each pause itself; every key is checked before any
run is laid out, so a send that cannot go is refused before anything is sent.

How long the sender waits comes from the wire plan (:mod:`toneflow.dtmf.wire`), for the
flow's tone and gap: run *k + 1* is sent as long after run *k*'s reply as its first key
sounds after run *k*'s first key on a platform that plays the whole send. An API may
acknowledge before the tones have played, so waiting only the pause could leave less
silence than the flow asked for; this way there is at least as much (too little silence
is the usual cause of missed digits, too much is harmless). A trailing pause follows
nothing toneflow sends, so it is not waited. Pure: the push client does the sending.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from toneflow.dtmf.dialects import digit_dialect
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.spelling import render, unsendable
from toneflow.dtmf.tokens import Key, Pause, Token, merge_pauses
from toneflow.dtmf.wire import WireTiming, wire_plan


@dataclass(frozen=True)
class Run:
    """One request's digits (in the platform's spelling), sent ``wait_ms`` after the
    previous request's reply (after the start, for the first)."""

    text: str
    wait_ms: int = 0


def runs(
    seq: Iterable[Token],
    dialect: str,
    *,
    timing: WireTiming,
    round_up: bool = False,
    source: str | None = None,
) -> tuple[Run, ...]:
    """``seq`` (parsed tokens, a leading pause for ``pause_before_ms``) as ``dialect``'s
    requests; DtmfError naming the first character (as written in ``source``, the text
    ``seq`` was parsed from) that cannot be sent exactly."""
    tokens = merge_pauses(seq)
    d = digit_dialect(dialect)
    if d.pauses:
        return (Run(render(tokens, dialect, round_up=round_up, source=source)),)
    refused = unsendable(tokens, dialect)
    if refused:
        raise refused[0]
    starts = {tone.position: tone.start_ms for tone in wire_plan(tokens, timing=timing).tones}
    found: list[Run] = []
    keys: list[Key] = []
    previous_start = 0
    for token in (*tokens, Pause(1, None)):  # a closing pause ends the last run
        if isinstance(token, Key):
            keys.append(token)
            continue
        if keys:
            start = starts[keys[0].position]
            text = render(keys, dialect)
            found.append(Run(text, start - previous_start))
            previous_start, keys = start, []
    if not found:
        raise DtmfError(f"the send has no keys: {d.name} cannot send silence alone", dialect=d.name)
    return tuple(found)
