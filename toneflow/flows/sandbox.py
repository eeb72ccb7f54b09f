"""A Jinja2 sandbox that also bounds how much a template can build and how long it can run.

Jinja2's own sandbox stops templates reaching Python internals, and caps ``range`` at
100,000 items, but it lets ``'x' * 10**10``, ``10 ** 10**10``, ``'x'|center(10**10)`` or
a loop inside a loop run: the worker then spends its memory or its whole answer budget on
one value, and every call it holds meets silence. A flow value is a short string (digits,
a sentence, a URL), so this sandbox refuses, as a render failure (and so the flow's
fallback), any single operation that would build more than :data:`MAX_TEMPLATE_RESULT`
characters or items, any integer power beyond :data:`MAX_POWER_BITS` bits, and any
rendered value longer than :data:`MAX_TEMPLATE_RESULT`. At compile time it refuses the
constructs whose running time a template's length does not bound: a loop inside a loop,
macros (which may recurse) and call blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import update_wrapper
from typing import Any

from jinja2 import nodes
from jinja2.filters import FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

#: The longest string or sequence one template operation, or a whole value, may build.
MAX_TEMPLATE_RESULT = 100_000
#: The largest integer ``**`` may compute, in bits (about 30,000 decimal digits).
MAX_POWER_BITS = 100_000

_SEQUENCES = (str, bytes, list, tuple)
# The width or precision digits in a %-format or str.format specification.
_FORMAT_NUMBERS = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d*))?|\{[^{}]*?:[^{}]*?(\d+)[^{}]*\}")
# str methods that pad to a width: their int argument is the size of the result.
_NESTED_FIELD = re.compile(r"\{[^{}]*:[^{}]*\{")
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class TemplateLimitError(SecurityError):
    """A template tried to build a value too large, or to run without a bound."""


def _refuse(what: str) -> TemplateLimitError:
    return TemplateLimitError(f"{what} (templates may build at most {MAX_TEMPLATE_RESULT:,})")


def _check_repeat(left: Any, right: Any) -> None:
    """``sequence * n`` or ``n * sequence`` must stay within the result limit."""
    for seq, count in ((left, right), (right, left)):
        repeated = isinstance(seq, _SEQUENCES) and isinstance(count, int)
        if repeated and len(seq) * count > MAX_TEMPLATE_RESULT:
            raise _refuse(f"repeating {len(seq):,} items {count:,} times is too large")


def _check_power(base: Any, exponent: Any) -> None:
    integers = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if integers and abs(base) > 1 and base.bit_length() * exponent > MAX_POWER_BITS:
        raise TemplateLimitError(f"{base} ** {exponent} is too large a number")


def _check_format(spec: str, args: Iterable[Any] = ()) -> None:
    """A width or precision in a format string (or a ``*`` one given as an argument)."""
    for match in _FORMAT_NUMBERS.finditer(spec):
        for number in match.groups():
            if number and int(number) > MAX_TEMPLATE_RESULT:
                raise _refuse(f"a format width of {int(number):,} is too large")
    if "*" in spec:
        _check_widths(args)


def _check_widths(values: Iterable[Any]) -> None:
    for value in values:
        if isinstance(value, int) and value > MAX_TEMPLATE_RESULT:
            raise _refuse(f"a width of {value:,} is too large")


def _bounded_filter(name: str, check):
    original = FILTERS[name]

    def bounded(*args: Any, **kwargs: Any) -> Any:
        check(args, kwargs)
        return original(*args, **kwargs)

    bounded.__name__ = original.__name__
    bounded.__doc__ = original.__doc__
    # Keep the markers Jinja reads (pass_context, pass_environment, …).
    bounded.__dict__.update(original.__dict__)
    return bounded


def _width_args(args: tuple, kwargs: dict) -> None:
    _check_widths((*args[1:], *kwargs.values()))


def _format_args(args: tuple, kwargs: dict) -> None:
    if args and isinstance(args[0], str):
        _check_format(args[0], (*args[1:], *kwargs.values()))


def _replace_args(args: tuple, kwargs: dict) -> None:
    # The filter receives the eval context first; str.replace does not.
    strings = [arg for arg in args if isinstance(arg, str)]
    text, old, new = [*strings, None, None, None][:3]
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        occurrences = text.count(old) if old else len(text) + 1
        if len(text) + occurrences * (len(new) - len(old)) > MAX_TEMPLATE_RESULT:
            raise _refuse("the replaced text is too large")


def _bounded_concat(parts: Iterable[str]) -> str:
    """``Environment.concat`` that stops as soon as the output passes the limit."""
    out: list[str] = []
    total = 0
    for part in parts:
        total += len(part)
        if total > MAX_TEMPLATE_RESULT:
            raise _refuse("the rendered value is too long")
        out.append(part)
    return "".join(out)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with size and time bounds on what a template does."""

    intercepted_binops = frozenset({"*", "**", "%"})
    concat = staticmethod(_bounded_concat)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {
            **self.filters,
            "center": _bounded_filter("center", _width_args),
            "indent": _bounded_filter("indent", _width_args),
            "format": _bounded_filter("format", _format_args),
            "replace": _bounded_filter("replace", _replace_args),
        }

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_format(left, right if isinstance(right, tuple) else (right,))
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name in _WIDTH_METHODS:
                _check_widths((*args, *kwargs.values()))
            elif name == "replace":
                _replace_args((owner, *args), {})
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        """``str.format``/``format_map``, with the widths in the format string checked."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        spec = value.__self__

        def bounded(*args: Any, **kwargs: Any) -> str:
            # A width given as a nested field (``{:>{w}}``) comes from the arguments.
            _check_format(spec)
            if _NESTED_FIELD.search(spec):
                mappings = [arg.values() for arg in args if isinstance(arg, dict)]
                _check_widths((*args, *kwargs.values(), *(v for m in mappings for v in m)))
            return wrapped(*args, **kwargs)

        return update_wrapper(bounded, wrapped)


def unbounded_constructs(tree: nodes.Template) -> str | None:
    """Why a parsed template could run for a time its length does not bound, or None."""
    if next(tree.find_all((nodes.Macro, nodes.CallBlock)), None) is not None:
        return "macros and call blocks are not allowed in flow templates"
    for loop in tree.find_all(nodes.For):
        inner = (*loop.body, *loop.else_)
        if any(
            isinstance(node, nodes.For) or next(node.find_all(nodes.For), None) for node in inner
        ):
            return "a loop inside a loop is not allowed in flow templates"
    return None
