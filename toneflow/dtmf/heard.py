"""What was served against what was heard: a call's sends read back from its answers.

``toneflow calls verify`` decodes a call recording and asks this module two things:
what did toneflow put on the line on that call (:func:`served_sends`: every
``send_digits`` of every answer, in order, read back from the exact bodies the call log
kept, in both dialects: MiniVoice's ``{"send_digits": …}`` actions and OzML's runs of
``<Delay>``/``<SendDTMF>``), and where the keys heard first part from it
(:func:`compare`). Pure, no numpy: the keys heard come in as (key, start_ms, end_ms).

A recording starts when the call does, not when a send does, and what happens between
sends (speech, prompts, the platform's own delays) is not in any plan. So each send is
anchored at its first key heard, and only the time between keys *within* a send is held
to its wire plan (:data:`~toneflow.dtmf.expect.TOLERANCE_MS`).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.expect import TOLERANCE_MS
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.tokens import Pause, Token
from toneflow.dtmf.wire import Tone, WirePlan, WireTiming, wire_plan

_OZML_DTMF = ("Delay", "SendDTMF")
_DEFAULT_TIMING = WireTiming()


@dataclass(frozen=True)
class ServedSend:
    """One send on a call: which answer (1-based, timeline order) and step, and its plan."""

    answer: int
    step: str
    plan: WirePlan


@dataclass(frozen=True)
class Verification:
    """The keys served and heard, and the first way they part (None when they match)."""

    served: str
    heard: str
    difference: str | None
    worst_offset_ms: int | None = None

    @property
    def matched(self) -> bool:
        return self.difference is None

    @property
    def summary(self) -> str:
        """One line: "served 1234#; heard 12 — nothing heard after 0.4 s"."""
        line = f"served {self.served or '(nothing)'}; heard {self.heard or 'nothing'}"
        if self.difference is not None:
            return f"{line} — {self.difference}"
        if not self.served:
            return line
        return (
            f"{line} — every key, in order, each within {TOLERANCE_MS} ms of its plan "
            f"(largest offset {self.worst_offset_ms} ms)"
        )


class UnreadableBody(ValueError):
    """A recorded answer body whose digits cannot be read back, naming the answer."""


def served_sends(
    answers: Iterable[Mapping[str, Any]], timing: WireTiming = _DEFAULT_TIMING
) -> list[ServedSend]:
    """Every ``send_digits`` served on a call, in order, with its wire plan.

    Only answers sent with status 200 reached the platform as actions (a 500's body is
    an error). ``timing`` is the platform's tone and gap, which no body records.
    """
    sends: list[ServedSend] = []
    for number, answer in enumerate(answers, start=1):
        if answer.get("status", 200) != 200:
            continue
        dialect = answer["dialect"]
        try:
            sequences = (
                _ozml_sequences(answer["body"])
                if dialect == "ozml"
                else _minivoice_sequences(answer["body"])
            )
            plans = [wire_plan(seq, dialect, timing=timing, pause_before_ms=pause)
                     for seq, pause in sequences]  # fmt: skip
        except (ValueError, DtmfError, ET.ParseError, TypeError, KeyError) as error:
            raise UnreadableBody(
                f"answer {number} (step {answer['step']}): its digits cannot be read: {error}"
            ) from error
        sends += [ServedSend(number, answer["step"], plan) for plan in plans]
    return sends


def _minivoice_sequences(body: str) -> list[tuple[tuple[Token, ...], int]]:
    document = json.loads(body)
    found = []
    for action in document.get("actions", []) if isinstance(document, dict) else []:
        if isinstance(action, dict) and "send_digits" in action:
            send = action["send_digits"]
            pause = int(send.get("pause_before_ms") or 0)
            found.append((parse(send["digits"], "minivoice"), pause))
    return found


def _ozml_sequences(body: str) -> list[tuple[tuple[Token, ...], int]]:
    """Each run of consecutive ``<Delay>``/``<SendDTMF>`` elements is one send."""
    root = ET.fromstring(body.encode("utf-8"))
    found: list[tuple[Token, ...]] = []
    run: list[Token] = []
    for element in [*root, None]:
        if element is not None and element.tag in _OZML_DTMF:
            if element.tag == "Delay":
                run.append(Pause(int((element.text or "0").strip()) * 1000, None))
            else:
                run.extend(parse(element.get("Keys", ""), "ozml"))
            continue
        if any(not isinstance(token, Pause) for token in run):
            found.append(tuple(run))
        run = []
    return [(seq, 0) for seq in found]


def compare(
    sends: Sequence[ServedSend],
    heard: Sequence[tuple[str, int, int]],
    *,
    tolerance_ms: int = TOLERANCE_MS,
) -> Verification:
    """Line ``heard`` (key, start_ms, end_ms) up against the keys of ``sends``, in order.

    The first difference wins: a served key not heard (the next one was), a key heard
    in its place, a key missing at the end ("nothing heard after 4.9 s"), an extra key,
    or a key more than ``tolerance_ms`` from where its send's plan puts it relative to
    the send's first key heard.
    """
    planned = [(send, tone) for send in sends for tone in send.plan.tones]
    served = "".join(tone.key for _, tone in planned)
    heard_text = "".join(key for key, _, _ in heard)
    worst = 0
    anchor: tuple[ServedSend, Tone, int] | None = None
    for i, (send, tone) in enumerate(planned):
        if i >= len(heard):
            after = f"after {_s(heard[-1][2])}" if heard else "in the whole recording"
            return Verification(served, heard_text, f"nothing heard {after}")
        key, start, _ = heard[i]
        if key != tone.key:
            return Verification(served, heard_text, _wrong_key(i, tone, planned, heard))
        if anchor is None or anchor[0] is not send:
            anchor = (send, tone, start)  # a send's first key: where its plan starts
            continue
        expected = anchor[2] + tone.start_ms - anchor[1].start_ms
        off = start - expected
        worst = max(worst, abs(off))
        if abs(off) > tolerance_ms:
            return Verification(
                served,
                heard_text,
                f"key {i + 1} ({tone.key!r}) was heard at {_s(start)}, {abs(off)} ms "
                f"{'late' if off > 0 else 'early'} for the plan of answer {send.answer} "
                f"(step {send.step}): {tone.start_ms - anchor[1].start_ms} ms after its "
                f"first key, heard {start - anchor[2]} ms after it",
            )
    if len(heard) > len(planned):
        key, start, _ = heard[len(planned)]
        return Verification(
            served, heard_text, f"an extra {key!r} was heard at {_s(start)}, after every served key"
        )
    return Verification(served, heard_text, None, worst)


def _wrong_key(
    i: int,
    tone: Tone,
    planned: Sequence[tuple[ServedSend, Tone]],
    heard: Sequence[tuple[str, int, int]],
) -> str:
    key, start, _ = heard[i]
    if i + 1 < len(planned) and key == planned[i + 1][1].key:
        return f"key {i + 1} ({tone.key!r}) was not heard; {key!r} was heard next, at {_s(start)}"
    if i + 1 < len(heard) and heard[i + 1][0] == tone.key:
        return f"an extra {key!r} was heard at {_s(start)}, before key {i + 1} ({tone.key!r})"
    return f"key {i + 1}: served {tone.key!r}, heard {key!r} at {_s(start)}"


def _s(ms: int) -> str:
    return f"{ms / 1000:.1f} s"
