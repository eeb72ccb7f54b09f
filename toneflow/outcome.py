"""What became of a call, in one rule: the contract's ``outcome`` and its kinds.

Pure: no Flask, no SQL, so the list schema validates ``?outcome=`` against the same kinds
the store derives. ``toneflow.store.writes.OUTCOME_SQL`` is this rule in SQL, so the list
can filter on it through an index; the two are tested against each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

OUTCOME_KINDS = (
    "in_progress", "finished", "abandoned", "transferred", "fell_back", "failed",
    "never_answered",
)  # fmt: skip
#: Fields of a ``call.completed`` event's ``data`` object (then of its ``call`` object) read
#: for the call's duration in seconds (a number, or a numeric text such as Genesys's
#: ``"duration": "27"``) and the platform's hangup cause (text). No seed defines them; a
#: platform that sends neither simply shows none.
DURATION_FIELDS = ("duration", "duration_s", "duration_seconds")
HANGUP_CAUSE_FIELDS = ("hangup_cause", "hangup_reason", "end_reason")


def derive_outcome(
    *,
    completed: bool,
    last_step: str | None,
    last_step_terminal: bool | None,
    fallback_step: str | None,
    fallback_reason: str | None,
    error_step: str | None = None,
    error_reason: str | None = None,
    transfer_to: str | None = None,
) -> dict[str, str | None]:
    """The contract's ``outcome``: what became of the call, in one rule.

    ``fell_back`` wins (``step`` is the step that could not render); then ``failed`` (a
    step could not render and there was no fallback: the platform got a 500); then a completed
    call ``finished`` on a terminal step, was ``abandoned`` on a step that led on, or
    was ``never_answered``; a call whose last step served transferred it is
    ``transferred`` once that step is served, completed or not (``reason`` says where to:
    "to +15551230020"); an open call is otherwise ``in_progress`` once a step was served.
    ``step`` is otherwise the last step served, or None when none was.
    """
    if fallback_step is not None:
        return {"kind": "fell_back", "step": fallback_step, "reason": fallback_reason}
    if error_step is not None:
        return {"kind": "failed", "step": error_step, "reason": error_reason}
    if last_step is None:
        return {"kind": "never_answered", "step": None, "reason": None}
    if transfer_to is not None:
        return {"kind": "transferred", "step": last_step, "reason": f"to {transfer_to}"}
    if not completed:
        kind = "in_progress"
    elif last_step_terminal:
        kind = "finished"
    else:
        kind = "abandoned"
    return {"kind": kind, "step": last_step, "reason": None}


def call_ending(event_bodies: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The duration (seconds) and hangup cause the call's ``call.completed`` events carry.

    Read from the first completion event that has them, in the order given: each field of
    :data:`DURATION_FIELDS` and :data:`HANGUP_CAUSE_FIELDS` in its ``data`` object, then in
    its ``call`` object. A duration that is not a non-negative number is ignored.
    """
    ending: dict[str, Any] = {"duration_s": None, "hangup_cause": None}
    for body in event_bodies:
        if body.get("event") != "call.completed":
            continue
        places = [
            place for place in (body.get("data"), body.get("call")) if isinstance(place, dict)
        ]
        for place in places:
            if ending["duration_s"] is None:
                ending["duration_s"] = _first(place, DURATION_FIELDS, _seconds)
            if ending["hangup_cause"] is None:
                ending["hangup_cause"] = _first(place, HANGUP_CAUSE_FIELDS, _text)
    return ending


def _first(place: Mapping[str, Any], names: tuple[str, ...], read) -> Any:
    for name in names:
        value = read(place.get(name))
        if value is not None:
            return value
    return None


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
