"""``toneflow lint --platform P``: where a flow's digits cannot be pushed to P as written.

A step served by answer_url is checked against MiniVoice and OzML; the same step pushed
into a live call (``toneflow push``) must also fit the push platform's dialect: Genesys
takes ``0-9`` only (its pauses are waited out by toneflow), VICIdial has no half second.
The rules are :mod:`toneflow.dtmf.runs`' — the ones a push is planned by — applied to
each literal ``send_digits`` (a templated one is checked when it is pushed); this module
only finds where in the flow each applies, one error per character.
"""

from __future__ import annotations

from collections.abc import Iterator

from toneflow.dtmf.dialects import digit_dialect
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.runs import runs
from toneflow.dtmf.tokens import Pause, Token, merge_pauses
from toneflow.dtmf.wire import WireTiming
from toneflow.flows import model
from toneflow.flows.ozml_checks import Note
from toneflow.flows.source import Path


def platform_notes(
    platform: str, timing: WireTiming, steps: dict[str, model.Step | tuple | model.Switch]
) -> Iterator[Note]:
    """One note per character (or pause) of a literal ``send_digits`` ``platform`` refuses."""
    for name, index, action in model.literal_sends(steps):
        pause = action.pause_before_ms or 0
        if not isinstance(pause, int):
            continue
        path: Path = ("steps", name, index, action.kind)
        lead: tuple[Token, ...] = (Pause(pause, None),) if pause else ()
        tokens = merge_pauses((*lead, *parse(action.digits, "minivoice")))
        for err in _refusals(tokens, platform, timing, action.digits):
            where = (*path, "digits") if err.position is not None else (*path, "pause_before_ms")
            yield Note(where, f"{err}: pushed to {platform}, this step is refused", err.position)


def _refusals(
    tokens: tuple[Token, ...], platform: str, timing: WireTiming, source: str
) -> list[DtmfError]:
    """Each token ``platform`` cannot take, as the push planner would refuse it; then, if
    none, the send as a whole (Genesys cannot send silence alone)."""
    errors = []
    waited = not digit_dialect(platform).pauses  # toneflow waits out the pauses itself
    for token in tokens:
        if waited and isinstance(token, Pause):
            continue
        try:
            runs((token,), platform, timing=timing, source=source)
        except DtmfError as err:
            errors.append(err)
    if not errors:
        try:
            runs(tokens, platform, timing=timing, source=source)
        except DtmfError as err:
            errors.append(err)
    return errors
