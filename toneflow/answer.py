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
class Answer:
    """What was served: the step whose actions these are, and the exact body."""

    flow: model.Flow
    step: str
    dialect: str
    body: bytes
    terminal: bool
    fallback_from: str | None = None
    fallback_reason: str | None = None

    @property
    def content_type(self) -> str:
        return RENDERERS[self.dialect].CONTENT_TYPE


class NotFound(LookupError):
    """No such flow, or no such step in it."""


class StepFailed(Exception):
    """A step could not be rendered for this request; ``step`` names it."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"step '{step}': {reason}")
        self.step = step
        self.reason = reason


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
            return dataclasses.replace(
                served, fallback_from=failure.step, fallback_reason=failure.reason
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
                        _body(flow, step, dialect, base_url, {})
                    count += 1
    return count


def _serve(
    flow: model.Flow, name: str, dialect: str, request: AnswerRequest, base_url: str
) -> Answer:
    context = request.context(flow.vars)
    step = _decide(flow, flow.steps[name], context)
    body = _body(flow, step, dialect, base_url, context)
    return Answer(flow=flow, step=step.name, dialect=dialect, body=body, terminal=step.terminal)


def _decide(flow: model.Flow, step: model.Step, context: dict[str, Any]) -> model.Step:
    """Follow switches to the step whose actions will be served."""
    for _ in range(MAX_SWITCH_HOPS):
        if step.switch is None:
            return step
        switch = step.switch
        try:
            value = switch.expression.render(context).strip()
        except UndefinedError:
            value = ""  # undefined goes to the default, as an empty value does
        except RENDER_FAILURES as err:
            raise StepFailed(step.name, f"switch: {render_failure(err, context)}") from err
        target = switch.cases.get(value, switch.default) if value else switch.default
        if target is None:
            raise StepFailed(
                step.name, f"switch value '{value}' matches no case and the step has no default"
            )
        step = flow.steps[target]
    raise StepFailed(step.name, f"more than {MAX_SWITCH_HOPS} switches in a row")


def _body(
    flow: model.Flow, step: model.Step, dialect: str, base_url: str, context: dict[str, Any]
) -> bytes:
    """Render a step's actions; a static step's result is kept and reused."""
    if not step.is_static:
        return _render(flow, step, dialect, base_url, _resolve(step, context))
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
