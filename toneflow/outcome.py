"""What became of a call, in one rule: the contract's ``outcome`` and its kinds.

Pure: no Flask, no SQL, so the list schema validates ``?outcome=`` against the same kinds
the store derives. ``toneflow.store.writes.OUTCOME_SQL`` is this rule in SQL, so the list
can filter on it through an index; the two are tested against each other.
"""

from __future__ import annotations

OUTCOME_KINDS = ("in_progress", "finished", "abandoned", "fell_back", "failed", "never_answered")


def derive_outcome(
    *,
    completed: bool,
    last_step: str | None,
    last_step_terminal: bool | None,
    fallback_step: str | None,
    fallback_reason: str | None,
    error_step: str | None = None,
    error_reason: str | None = None,
) -> dict[str, str | None]:
    """The contract's ``outcome``: what became of the call, in one rule.

    ``fell_back`` wins (``step`` is the step that could not render); then ``failed`` (a
    step could not render and there was no fallback: the platform got a 500); then a completed
    call ``finished`` on a terminal step, was ``abandoned`` on a step that led on, or
    was ``never_answered``; an open call is ``in_progress`` once a step was served.
    ``step`` is otherwise the last step served, or None when none was.
    """
    if fallback_step is not None:
        return {"kind": "fell_back", "step": fallback_step, "reason": fallback_reason}
    if error_step is not None:
        return {"kind": "failed", "step": error_step, "reason": error_reason}
    if last_step is None:
        return {"kind": "never_answered", "step": None, "reason": None}
    if not completed:
        kind = "in_progress"
    elif last_step_terminal:
        kind = "finished"
    else:
        kind = "abandoned"
    return {"kind": kind, "step": last_step, "reason": None}
