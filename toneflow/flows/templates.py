"""Jinja2 for flow values: sandboxed, strict about undefined names, compiled once.

Output is not HTML-escaped here because it is never HTML: the renderers put every value
through ``json`` or ElementTree, which escape for their own formats.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta

from toneflow.flows.sandbox import BoundedSandbox, unbounded_constructs

#: What evaluating an author's expression can raise: a render failure, never a crash.
RENDER_FAILURES = (TemplateError, ArithmeticError, TypeError, ValueError, LookupError)
#: The names a template may use; anything else is an error at load time.
CONTEXT_NAMES = ("call", "variables", "input", "vars")


class TemplateProblem(ValueError):
    """A template that cannot be compiled, or that uses a name outside the context."""


@cache
def environment() -> BoundedSandbox:
    """One shared sandbox: no Python internals, no mutation, bounded size and time."""
    return BoundedSandbox(undefined=StrictUndefined, autoescape=False)


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
