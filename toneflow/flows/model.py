"""The compiled shape of a flow: plain frozen data that the answer engine walks.

Schemas (``schemas/flow.py``) build these objects from YAML; nothing here knows about
YAML, HTTP or SQL, so the same objects serve calls, lint and offline flow tests.
A field whose value is a :class:`TemplateSource` is filled in per request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cache, cached_property
from typing import Any, ClassVar

from toneflow.dtmf.wire import WireTiming
from toneflow.flows.templates import render_template

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
PARTIES = ("caller", "callee", "all")
DEFAULT_PARTY = "callee"


def is_template(text: str) -> bool:
    """Say whether a string holds Jinja2 syntax and so must be rendered per request."""
    return "{{" in text or "{%" in text or "{#" in text


@dataclass(frozen=True)
class TemplateSource:
    """A templated value as written, with the field that validates what it renders to.

    Keeping the field means a rendered value is checked by exactly the rule a literal
    value was checked by at load time, with no second copy of that rule.
    """

    text: str
    validator: Any = field(compare=False, repr=False)
    compiled: Any = field(default=None, compare=False, repr=False)
    #: The context names the template uses (``call``, ``variables``, ``input``, ``vars``).
    names: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def constant(self) -> bool:
        """Uses only the flow's own ``vars``: the same value for every request."""
        return self.names <= {"vars"}

    def render(self, context: dict[str, Any]) -> str:
        """The template's text for ``context``; raises what evaluating it raises."""
        return render_template(self.compiled, context)

    def resolve(self, context: dict[str, Any]) -> Any:
        """Render, then validate with the field that validates literal values."""
        return self.validator.deserialize(self.render(context))


@dataclass(frozen=True)
class SendDigits:
    kind: ClassVar[str] = "send_digits"
    digits: str
    pause_before_ms: int | None = None
    party: str | None = None


@dataclass(frozen=True)
class Speak:
    kind: ClassVar[str] = "speak"
    text: str
    language: str | None = None


@dataclass(frozen=True)
class Play:
    kind: ClassVar[str] = "play"
    url: str


@dataclass(frozen=True)
class CollectDigits:
    kind: ClassVar[str] = "collect_digits"
    max_digits: int
    timeout_ms: int
    next: str
    finish_on_key: str | None = None


@dataclass(frozen=True)
class Redirect:
    kind: ClassVar[str] = "redirect"
    step: str


@dataclass(frozen=True)
class Transfer:
    kind: ClassVar[str] = "transfer"
    to: str


@dataclass(frozen=True)
class Hangup:
    kind: ClassVar[str] = "hangup"


Action = SendDigits | Speak | Play | CollectDigits | Redirect | Transfer | Hangup

#: Actions after which the call moves on to another step: a step holding one is not terminal.
LEADS_ON = (Redirect, CollectDigits)


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def templated_fields(action: Action) -> list[str]:
    """Name the fields of an action that hold templates."""
    return [
        name
        for name in _field_names(type(action))
        if isinstance(getattr(action, name), TemplateSource)
    ]


@dataclass(frozen=True)
class Switch:
    """A step decided on the server: render ``expression``, pick a case or the default."""

    expression: TemplateSource
    cases: dict[str, str]
    default: str | None = None


def literal_sends(
    steps: Mapping[str, tuple[Action, ...] | Switch],
) -> Iterator[tuple[str, int, SendDigits]]:
    """(step, index, action) for each ``send_digits`` whose digits are written out, not
    templated: what lint can check before any call (a template is checked when served)."""
    for name, body in steps.items():
        if isinstance(body, Switch):
            continue
        for index, action in enumerate(body):
            if isinstance(action, SendDigits) and isinstance(action.digits, str):
                yield name, index, action


@dataclass
class Step:
    """One named step: either a list of actions or a switch."""

    name: str
    actions: tuple[Action, ...] = ()
    switch: Switch | None = None

    @property
    def terminal(self) -> bool:
        """A step is terminal when nothing in it leads on to another step."""
        return self.switch is None and not any(isinstance(a, LEADS_ON) for a in self.actions)

    @cached_property
    def is_static(self) -> bool:
        """A static step renders to the same bytes for every request (asked per request)."""
        return self.switch is None and not any(templated_fields(a) for a in self.actions)


@dataclass
class Flow:
    """A whole flow file, compiled."""

    name: str
    path: str
    version: str
    steps: dict[str, Step]
    start: str
    party: str = DEFAULT_PARTY
    fallback: str | None = None
    description: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    #: The platform's tone and gap the flow declares (``dtmf:``): what its wire plans assume.
    dtmf: WireTiming = field(default_factory=WireTiming)
    #: The file's text, exactly: stored with its version so any server can serve it later.
    source: str = field(default="", repr=False)
    #: Rendered bodies of static steps, keyed by (step, dialect, base URL).
    cache: dict[tuple[str, str, str], Any] = field(default_factory=dict, repr=False)
