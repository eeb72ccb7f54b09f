"""Lint from detector limits: where a flow's DTMF timing may not be heard.

The limits are :mod:`toneflow.dtmf.limits`'; the times are the wire plan's
(:mod:`toneflow.dtmf.wire`) for the tone and gap the flow declares in ``dtmf:``. This
module only finds where in a flow each applies: the declared ``tone_ms``/``gap_ms``, or
the character of a literal ``digits`` value (a templated one is checked when served).
"""

from __future__ import annotations

from collections.abc import Iterator

from toneflow.dtmf.limits import repeat_breaches, timing_breaches
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.wire import WireTiming, wire_plan
from toneflow.flows import model
from toneflow.flows.ozml_checks import Note
from toneflow.flows.source import Path


def timing_notes(
    timing: WireTiming, steps: dict[str, model.Step | tuple | model.Switch]
) -> Iterator[tuple[str, Note]]:
    """(severity, note) for each breach: the declared timing's, then each step's, in order."""
    for breach in timing_breaches(timing):
        yield breach.severity, Note(("dtmf", breach.field), breach.message)
    for name, index, action in model.literal_sends(steps):
        path: Path = ("steps", name, index, action.kind, "digits")
        plan = wire_plan(parse(action.digits, "minivoice"), timing=timing)
        for breach in repeat_breaches(plan):
            yield breach.severity, Note(path, breach.message, breach.position)
