"""Plan a push: a flow step's ``send_digits`` rendered for one call, as a platform takes them.

Pure (no HTTP, no SQL): the web route, ``toneflow push`` and ``toneflow dtmf export``
all render a step's sends here, so templated digits are rendered and re-validated by
the same fields the answer path uses, and each send is converted by the digit rules of
:mod:`toneflow.dtmf` (:mod:`toneflow.dtmf.runs` lays it out as requests). A conversion
that cannot be exact fails here, naming the action, the character and its position,
before the client sends anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from schemas.base import first_message
from schemas.fields import digit_limit
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.parsing import DEFAULT_MAX_DIGITS, parse
from toneflow.dtmf.runs import Run, runs
from toneflow.dtmf.tokens import Pause, Token
from toneflow.flows.model import Flow, SendDigits, TemplateSource
from toneflow.flows.templates import RENDER_FAILURES, render_failure, unset_path

#: Platforms that take DTMF into a live call by API; each spells digits in the digit
#: dialect of the same name (:mod:`toneflow.dtmf.dialects`).
PLATFORMS = ("vicidial", "vobiz", "genesys")


class UnknownStep(LookupError):
    """The flow has no such step (a 404 on the web, a usage error in the CLI)."""


class PlanError(ValueError):
    """A step whose digits cannot be pushed as asked; ``missing`` names an unset variable
    (``("variables", "code")``) when that is why."""

    def __init__(self, message: str, *, missing: tuple[Any, ...] | None = None) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class StepSend:
    """One ``send_digits`` of a step as a call gets it: its action number (1-based), the
    rendered digits (MiniVoice spelling), its pause and the tokens (pause first)."""

    action: int
    digits: str
    pause_before_ms: int
    tokens: tuple[Token, ...]


@dataclass(frozen=True)
class PlannedSend:
    """A step send and the requests it takes on the platform, in order."""

    send: StepSend
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Plan:
    """Everything a push sends, decided before the first byte goes out."""

    platform: str
    flow: str
    flow_version: str
    step: str
    round_up: bool
    sends: tuple[PlannedSend, ...]


def step_sends(flow: Flow, step: str, variables: dict[str, Any]) -> list[StepSend]:
    """Each ``send_digits`` of ``step``, templates rendered with the flow's ``vars`` and the
    call's ``variables`` (:class:`UnknownStep`, :class:`PlanError`)."""
    if step not in flow.steps:
        raise UnknownStep(f"flow '{flow.name}' has no step named '{step}'")
    context = {"call": {}, "input": {}, "vars": flow.vars, "variables": dict(variables)}
    sends = [
        (index, action)
        for index, action in enumerate(flow.steps[step].actions, start=1)
        if isinstance(action, SendDigits)
    ]
    if not sends:
        raise PlanError(f"step '{step}' of flow '{flow.name}' sends no digits")
    found = []
    for index, action in sends:
        try:
            digits = _value(action.digits, context)
            pause = _value(action.pause_before_ms, context) or 0
            tokens = parse(digits, "minivoice")
        except (DtmfError, ValidationError) as err:
            reason = first_message(getattr(err, "messages", err))
            raise PlanError(f"action {index}: {reason}") from err
        except RENDER_FAILURES as err:
            reason = render_failure(err, context)
            raise PlanError(f"action {index}: {reason}", missing=unset_path(err, context)) from err
        lead = (Pause(pause, None),) if pause else ()
        found.append(StepSend(index, digits, pause, (*lead, *tokens)))
    return found


def plan_push(
    flow: Flow,
    step: str,
    platform: str,
    variables: dict[str, Any],
    *,
    round_up: bool = False,
    max_digits: int = DEFAULT_MAX_DIGITS,
) -> Plan:
    """The requests pushing ``step`` to ``platform`` takes, or :class:`PlanError` naming the
    action, the character and its position (the rendered digits quoted: they may come
    from a template). Rendered digits are held to ``max_digits``, as answers are."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown push platform {platform!r} (known: {', '.join(PLATFORMS)})")
    with digit_limit(max_digits):
        sends = step_sends(flow, step, variables)
    planned = []
    for send in sends:
        try:
            laid_out = runs(
                send.tokens, platform, timing=flow.dtmf, round_up=round_up, source=send.digits
            )
        except DtmfError as err:
            raise PlanError(f"action {send.action} (digits '{send.digits}'): {err}") from err
        planned.append(PlannedSend(send, laid_out))
    return Plan(platform, flow.name, flow.version, step, round_up, tuple(planned))


def _value(value: object, context: dict[str, Any]) -> Any:
    return value.resolve(context) if isinstance(value, TemplateSource) else value
