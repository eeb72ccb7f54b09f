"""Jinja2 for flow values: sandboxed, strict about undefined names, compiled once.

Output is not HTML-escaped here because it is never HTML: the renderers put every value
through ``json`` or ElementTree, which escape for their own formats.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, lru_cache, partial
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, meta

from toneflow.flows.sandbox import BoundedSandbox, unbounded_constructs

#: What evaluating an author's expression can raise: a render failure, never a crash.
RENDER_FAILURES = (TemplateError, ArithmeticError, TypeError, ValueError, LookupError)
#: The names a template may use; anything else is an error at load time.
CONTEXT_NAMES = ("call", "variables", "input", "vars")
#: The names that hold what the platform sent with one request (``vars`` is the flow's own).
REQUEST_NAMES = frozenset({"call", "variables", "input"})
#: How deep into nested variables a missing key is traced back to its name.
_MAX_TRACE_DEPTH = 8


class TemplateProblem(ValueError):
    """A template that cannot be compiled, or that uses a name outside the context."""


class NotSet(UndefinedError):
    """A template read a key its mapping does not have; ``owner`` is that mapping."""

    def __init__(self, message: str | None = None, *, owner: Any = None, key: Any = None) -> None:
        super().__init__(message)
        self.owner = owner
        self.key = key


class FlowUndefined(StrictUndefined):
    """StrictUndefined whose error remembers the mapping and the key that were missing,
    so the failure can be said in the flow's own words (see :func:`unset_path`)."""

    __slots__ = ()

    def __init__(self, hint: str | None = None, obj: Any = None, name: Any = None, **_: Any):
        super().__init__(hint, obj, name, exc=partial(NotSet, owner=obj, key=name))


def speak_value(value: Any) -> Any:
    """Jinja's ``finalize``: what ``{{ value }}`` writes for JSON's null, true and false.

    Python would write ``None``, ``True`` and ``False``: a caller would hear "None".
    null writes nothing (so a switch on it goes to its ``default``), booleans write
    ``true``/``false`` as JSON spells them. Everything else is written as Jinja writes it.
    """
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


@cache
def environment() -> BoundedSandbox:
    """One shared sandbox: no Python internals, no mutation, bounded size and time."""
    return BoundedSandbox(undefined=FlowUndefined, autoescape=False, finalize=speak_value)


@lru_cache(maxsize=4096)
def compile_template(text: str) -> tuple[Any, frozenset[str]]:
    """Compile ``text``; refuse syntax errors and names the context does not have.

    Returns the compiled template and the context names it uses. Compiling is most of
    the cost of loading a flow, and flows repeat expressions (``{{ input.digits }}``,
    ``{{ vars.line }}``): one compiled template serves every copy of the same text (a
    compiled template is immutable, and a refused one is not cached).
    """
    env = environment()
    try:
        # Unknown filters and tests surface while names are collected (a subclass of
        # TemplateSyntaxError), so both steps sit inside the same guard. The text is
        # parsed once: the names come from the tree that is then checked and compiled.
        tree = env.parse(text)
        names = meta.find_undeclared_variables(tree)
        unbounded = unbounded_constructs(tree)
        if unbounded:
            raise TemplateProblem(f"template error: {unbounded}")
        compiled = env.from_string(tree)
    except TemplateSyntaxError as err:
        raise TemplateProblem(f"template error: {err.message}") from err
    unknown = sorted(names - set(CONTEXT_NAMES))
    if unknown:
        raise TemplateProblem(
            f"template uses {', '.join(repr(n) for n in unknown)}, which is not in the "
            f"template context ({', '.join(CONTEXT_NAMES)})"
        )
    return compiled, frozenset(names)


def render_template(compiled: Any, context: dict[str, Any]) -> str:
    """What ``compiled.render(context)`` returns, for less per call.

    Jinja's ``render`` copies every global (``range``, ``dict``, ``namespace``…) into a
    fresh dict on each call; here the environment's globals are laid under the context
    in one small dict and handed over as the template's whole context. Errors are the
    same ones ``render`` raises.
    """
    names = {**_globals(), **context}
    return compiled.environment.concat(
        compiled.root_render_func(compiled.new_context(names, shared=True))
    )


@cache
def _globals() -> dict[str, Any]:
    return dict(environment().globals)


def unset_path(err: BaseException, context: dict[str, Any]) -> tuple[Any, ...] | None:
    """``("variables", "confirmation_code")`` when ``err`` is a key missing from the context.

    Found by identity: the mapping the template read is searched for among the
    context's own values (nested ones too), so ``variables.order.code`` is traced
    back whole. None when the failure is anything else.
    """
    if not isinstance(err, NotSet) or not isinstance(err.owner, dict):
        return None
    for path, value in _mappings(context, (), 0):
        if value is err.owner and path:
            return (*path, err.key)
    return None


def _mappings(value: dict, path: tuple, depth: int) -> Iterator[tuple[tuple, dict]]:
    yield path, value
    if depth >= _MAX_TRACE_DEPTH:
        return
    for key, inner in value.items():
        if isinstance(inner, dict):
            yield from _mappings(inner, (*path, key), depth + 1)


def dotted(path: tuple[Any, ...]) -> str:
    """``variables.confirmation_code``, or ``variables['my-code']``, as a template writes it."""
    text = str(path[0])
    for part in path[1:]:
        text += f".{part}" if isinstance(part, str) and part.isidentifier() else f"[{part!r}]"
    return text


def render_failure(err: BaseException, context: dict[str, Any]) -> str:
    """Why a template could not render, in the flow's own words rather than Jinja's.

    The one wording for every place a render failure is shown: the fallback reason and
    the 500 body (what support staff read), lint's check of ``vars`` templates and
    ``toneflow dtmf export``.
    """
    path = unset_path(err, context)
    if path is None:
        return str(err)
    if path[0] == "vars":
        return f"`{dotted(path)}` is not defined in the flow's vars"
    return f"`{dotted(path)}` is not set for this call"
