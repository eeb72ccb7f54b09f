"""Answer one request: find the step, decide switches, render templates, fall back.

Pure: no Flask, no SQL. The web layer hands in a normalised :class:`~toneflow.request.AnswerRequest`
and gets back an :class:`Answer` holding the exact bytes to send, or an exception that
maps to a documented error. Static steps are rendered once and reused.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Any

from jinja2 import UndefinedError
from marshmallow import ValidationError

from schemas.base import first_message
from schemas.fields import digit_limit
from toneflow.flows import model
from toneflow.flows.registry import FlowSet
from toneflow.flows.templates import RENDER_FAILURES, render_failure
from toneflow.render import RenderError, minivoice, ozml
from toneflow.request import ANSWER_DIALECTS, AnswerRequest

#: The renderer of each answer dialect, in the order ``toneflow.request`` names them.
RENDERERS = {"minivoice": minivoice, "ozml": ozml}
DIALECTS = ANSWER_DIALECTS
#: Switches may lead to switches; more hops than this is a loop the lint should have caught.
MAX_SWITCH_HOPS = 16
#: Distinct public base URLs a static step keeps bodies for (the Host header is the client's).
MAX_CACHED_BASES = 8


@dataclass(frozen=True)
class Hop:
    """One switch decided: the value it rendered, the case that matched (None: it went to
    ``default``) and the step it chose."""

    step: str
    value: str
    case: str | None
    to: str


@dataclass(frozen=True)
class Decision:
    """What toneflow decided for one answer, as data, recorded with it at serve time.

    ``steps``: every step the request passed through, in order — switches, the step that
    failed (on a fallback), the step served; ``switches``: each switch's decision;
    ``awaits_digits_ms``: the served step's ``collect_digits`` timeout (the platform then
    waits that long for keys); ``transfer_to``: where the served step transferred the call.
    """

    steps: tuple[str, ...] = ()
    switches: tuple[Hop, ...] = ()
    awaits_digits_ms: int | None = None
    transfer_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The decision as plain JSON data (what the call log stores)."""
        data: dict[str, Any] = {
            "steps": list(self.steps),
            "switches": [dataclasses.asdict(hop) for hop in self.switches],
        }
        if self.awaits_digits_ms is not None:
            data["awaits_digits_ms"] = self.awaits_digits_ms
        if self.transfer_to is not None:
            data["transfer_to"] = self.transfer_to
        return data


@dataclass(frozen=True)
class Answer:
    """What was served: the step whose actions these are, the exact body, and the decision."""

    flow: model.Flow
    step: str
    dialect: str
    body: bytes
    terminal: bool
    fallback_from: str | None = None
    fallback_reason: str | None = None
    decision: Decision | None = None

    @property
    def content_type(self) -> str:
        return RENDERERS[self.dialect].CONTENT_TYPE


class NotFound(LookupError):
    """No such flow, or no such step in it."""


class StepFailed(Exception):
    """A step could not be rendered for this request; ``step`` names it.

    ``decision`` is what was decided on the way to it (the switches passed, ending at
    ``step``), once :func:`answer` knows it.
    """

    def __init__(self, step: str, reason: str, decision: Decision | None = None) -> None:
        super().__init__(f"step '{step}': {reason}")
        self.step = step
        self.reason = reason
        self.decision = decision or Decision(steps=(step,))


class AnswerFailed(Exception):
    """A step failed and no fallback could be served: the platform gets a 500."""

    def __init__(self, failure: StepFailed, detail: str) -> None:
        super().__init__(f"{failure}; {detail}")
        self.failure = failure


def step_url(base_url: str, dialect: str, flow: str, step: str) -> str:
    """The absolute answer URL of a step: where redirects and collected digits go."""
    return f"{base_url.rstrip('/')}/answer/{dialect}/{flow}/{step}"


def answer(
    flows: FlowSet,
    flow_name: str,
    step_name: str | None,
    dialect: str,
    request: AnswerRequest,
    base_url: str,
) -> Answer:
    """Serve ``step_name`` (the start step when None) of ``flow_name``, falling back if need be.

    Raises :class:`NotFound` for an unknown flow or step and :class:`AnswerFailed` when
    the step fails and the flow has no fallback (or the fallback fails too).
    """
    flow = flows.get(flow_name)
    if flow is None:
        raise NotFound(f"no flow named '{flow_name}'")
    name = step_name or flow.start
    if name not in flow.steps:
        raise NotFound(f"flow '{flow_name}' has no step named '{name}'")
    with digit_limit(flows.max_digits):
        try:
            return _serve(flow, name, dialect, request, base_url)
        except StepFailed as failure:
            if flow.fallback is None or failure.step == flow.fallback:
                raise AnswerFailed(failure, "the flow has no fallback step") from failure
            try:
                served = _serve(flow, flow.fallback, dialect, request, base_url)
            except StepFailed as second:
                raise AnswerFailed(failure, f"the fallback failed too: {second}") from second
            reached = served.decision or Decision(steps=(served.step,))
            decision = dataclasses.replace(
                reached,
                steps=failure.decision.steps + reached.steps,
                switches=failure.decision.switches + reached.switches,
            )
            return dataclasses.replace(
                served,
                fallback_from=failure.step,
                fallback_reason=failure.reason,
                decision=decision,
            )


def prerender(flows: FlowSet, base_url: str) -> int:
    """Render every static step in every dialect for ``base_url`` now; return how many."""
    count = 0
    with digit_limit(flows.max_digits):
        for flow in flows.flows.values():
            for step in flow.steps.values():
                if not step.is_static:
                    continue
                for dialect in DIALECTS:
                    with contextlib.suppress(StepFailed):  # cached too; served as fallback
                        _body(flow, step, dialect, base_url, step.actions)
                    count += 1
    return count


def _serve(
    flow: model.Flow, name: str, dialect: str, request: AnswerRequest, base_url: str
) -> Answer:
    context = request.context(flow.vars)
    hops: list[Hop] = []
    step = _decide(flow, flow.steps[name], context, hops)
    steps = (*(hop.step for hop in hops), step.name)
    try:
        actions = step.actions if step.is_static else _resolve(step, context)
        body = _body(flow, step, dialect, base_url, actions)
    except StepFailed as failure:
        failure.decision = Decision(steps=steps, switches=tuple(hops))
        raise
    decision = Decision(steps=steps, switches=tuple(hops), **_leads(actions))
    return Answer(
        flow=flow,
        step=step.name,
        dialect=dialect,
        body=body,
        terminal=step.terminal,
        decision=decision,
    )


def _leads(actions: tuple[model.Action, ...]) -> dict[str, Any]:
    """Where the served actions leave the call: waiting for keys, or transferred."""
    leads: dict[str, Any] = {}
    for action in actions:
        if isinstance(action, model.CollectDigits):
            leads["awaits_digits_ms"] = action.timeout_ms
        elif isinstance(action, model.Transfer):
            leads["transfer_to"] = action.to
    return leads


def _decide(
    flow: model.Flow, step: model.Step, context: dict[str, Any], hops: list[Hop]
) -> model.Step:
    """Follow switches to the step whose actions will be served, noting each in ``hops``."""
    for _ in range(MAX_SWITCH_HOPS):
        if step.switch is None:
            return step
        switch = step.switch
        try:
            value = switch.expression.render(context).strip()
        except UndefinedError:
            value = ""  # undefined goes to the default, as an empty value does
        except RENDER_FAILURES as err:
            raise StepFailed(
                step.name, f"switch: {render_failure(err, context)}", _so_far(hops, step)
            ) from err
        case = value if value and value in switch.cases else None
        target = switch.cases[case] if case is not None else switch.default
        if target is None:
            raise StepFailed(
                step.name,
                f"switch value '{value}' matches no case and the step has no default",
                _so_far(hops, step),
            )
        hops.append(Hop(step=step.name, value=value, case=case, to=target))
        step = flow.steps[target]
    raise StepFailed(
        step.name, f"more than {MAX_SWITCH_HOPS} switches in a row", _so_far(hops, step)
    )


def _so_far(hops: list[Hop], step: model.Step) -> Decision:
    """The decision up to a switch that could not decide."""
    return Decision(steps=(*(hop.step for hop in hops), step.name), switches=tuple(hops))


def _body(
    flow: model.Flow,
    step: model.Step,
    dialect: str,
    base_url: str,
    actions: tuple[model.Action, ...],
) -> bytes:
    """Render a step's (resolved) actions; a static step's result is kept and reused."""
    if not step.is_static:
        return _render(flow, step, dialect, base_url, actions)
    key = (step.name, dialect, base_url)
    cached = flow.cache.get(key)
    if cached is None:
        try:
            cached = _render(flow, step, dialect, base_url, step.actions)
        except StepFailed as failure:
            # Keep the reason, not the exception: re-raising one cached instance would
            # grow its traceback (and keep every request's frames alive) on each call.
            cached = (failure.step, failure.reason)
        if len(flow.cache) < MAX_CACHED_BASES * len(flow.steps) * len(DIALECTS):
            flow.cache[key] = cached
    if isinstance(cached, tuple):
        raise StepFailed(*cached)
    return cached


def _render(
    flow: model.Flow,
    step: model.Step,
    dialect: str,
    base_url: str,
    actions: tuple[model.Action, ...],
) -> bytes:
    def url(target: str) -> str:
        return step_url(base_url, dialect, flow.name, target)

    try:
        return RENDERERS[dialect].render(actions, step_url=url, party=flow.party)
    except RenderError as err:
        raise StepFailed(step.name, str(err)) from err


def _resolve(step: model.Step, context: dict[str, Any]) -> tuple[model.Action, ...]:
    """Render each templated value and validate it with the field that guards literals."""
    actions = []
    for index, action in enumerate(step.actions):
        names = model.templated_fields(action)
        if not names:
            actions.append(action)
            continue
        changes = {}
        for name in names:
            source: model.TemplateSource = getattr(action, name)
            where = f"action {index + 1} ({action.kind}.{name})"
            try:
                text = source.render(context)
            except RENDER_FAILURES as err:
                raise StepFailed(step.name, f"{where}: {render_failure(err, context)}") from err
            try:
                changes[name] = source.validator.deserialize(text)
            except ValidationError as err:
                raise StepFailed(step.name, f"{where}: {first_message(err.messages)}") from err
        actions.append(dataclasses.replace(action, **changes))
    return tuple(actions)
