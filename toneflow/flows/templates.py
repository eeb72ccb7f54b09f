"""Jinja2 for flow values: sandboxed, strict about undefined names, compiled once.

Output is not HTML-escaped here because it is never HTML: the renderers put every value
through ``json`` or ElementTree, which escape for their own formats.
"""

from __future__ import annotations

from functools import cache
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


def compile_template(text: str) -> tuple[Any, frozenset[str]]:
    """Compile ``text``; refuse syntax errors and names the context does not have.

    Returns the compiled template and the context names it uses.
    """
    env = environment()
    try:
        # Unknown filters and tests surface while names are collected (a subclass of
        # TemplateSyntaxError), so both steps sit inside the same guard.
        tree = env.parse(text)
        names = meta.find_undeclared_variables(tree)
        compiled = env.from_string(text)
    except TemplateSyntaxError as err:
        raise TemplateProblem(f"template error: {err.message}") from err
    unbounded = unbounded_constructs(tree)
    if unbounded:
        raise TemplateProblem(f"template error: {unbounded}")
    unknown = sorted(names - set(CONTEXT_NAMES))
    if unknown:
        raise TemplateProblem(
            f"template uses {', '.join(repr(n) for n in unknown)}, which is not in the "
            f"template context ({', '.join(CONTEXT_NAMES)})"
        )
    return compiled, frozenset(names)
