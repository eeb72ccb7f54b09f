"""The bounded template sandbox: size and time bombs fail fast; ordinary templates do not."""

from __future__ import annotations

import json
from textwrap import dedent

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from toneflow.answer import answer
from toneflow.flows.compile import compile_flow
from toneflow.flows.registry import FlowSet
from toneflow.flows.sandbox import MAX_TEMPLATE_RESULT, TemplateLimitError
from toneflow.flows.templates import RENDER_FAILURES, TemplateProblem, compile_template
from toneflow.request import AnswerRequest

BOMBS = [
    "{{ 'x' * 10**10 }}",
    "{{ 10**10 * 'x' }}",
    "{{ [0] * 10**9 }}",
    "{{ 10 ** 100000 }}",
    "{{ 'x' | center(10**10) }}",
    "{{ 'x' | indent(10**10, true) }}",
    "{{ '%9999999999s' | format('x') }}",
    "{{ '%*s' | format(10**10, 'x') }}",
    "{{ '%9999999999s' % 'x' }}",
    "{{ 'x'.ljust(10**10) }}",
    "{{ 'x'.zfill(10**10) }}",
    "{{ '{:>9999999999}'.format('x') }}",
    "{{ '{:>{w}}'.format('x', w=10**10) }}",
    "{{ ('x' * 99999) | replace('x', 'xx') }}",
    "{{ ('x' * 99999).replace('x', 'xx') }}",
    "{% for i in range(99999) %}xx{% endfor %}",
    "{% set x %}{% for i in range(99999) %}xx{% endfor %}{% endset %}{{ x | length }}",
]


def render(text: str, **context) -> str:
    compiled, _ = compile_template(text)
    return compiled.render(**context)


@pytest.mark.parametrize("text", BOMBS)
def test_a_template_that_would_build_a_huge_value_fails_as_a_render_failure(text):
    with pytest.raises(TemplateLimitError) as caught:
        render(text)
    assert isinstance(caught.value, RENDER_FAILURES)
    assert "too" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ 'ab' * 3 }}", "ababab"),
        ("{{ 2 ** 64 }}", str(2**64)),
        ("{{ '%05d' | format(42) }}", "00042"),
        ("{{ '%-4s|' % 'ab' }}", "ab  |"),
        ("{{ 'ab'.center(6) }}", "  ab  "),
        ("{{ '{:>4}'.format(7) }}", "   7"),
        ("{{ '{}'.format(10**7) }}", "10000000"),
        ("{{ 'a-b' | replace('-', 'ww') }}", "awwb"),
        ("{% for d in '123' %}{{ d }}w{% endfor %}", "1w2w3w"),
        (f"{{{{ 'x' * {MAX_TEMPLATE_RESULT} }}}}", "x" * MAX_TEMPLATE_RESULT),
    ],
)
def test_ordinary_templates_render_as_jinja_would(text, expected):
    assert render(text) == expected
    plain = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    assert plain.from_string(text).render() == expected


@given(
    text=st.text(max_size=20),
    times=st.integers(min_value=-3, max_value=50),
    width=st.integers(min_value=0, max_value=200),
)
def test_small_operations_give_the_same_result_as_the_plain_sandbox(text, times, width):
    template = (
        "{{ vars.t * vars.n }}|{{ vars.t.center(vars.w) }}|{{ vars.t | center(vars.w) }}"
        "|{{ '%*s' % (vars.w, vars.t) }}|{{ '{:>{w}}'.format(vars.t, w=vars.w) }}"
    )
    plain = ImmutableSandboxedEnvironment(undefined=StrictUndefined).from_string(template)
    context = {"vars": {"t": text, "n": times, "w": width}}
    compiled, _ = compile_template(template)
    assert compiled.render(**context) == plain.render(**context)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{% for a in vars.x %}{% for b in vars.y %}{% endfor %}{% endfor %}",
            "a loop inside a loop",
        ),
        (
            "{% for a in vars.x %}{% if a %}{% for b in a %}{% endfor %}{% endif %}{% endfor %}",
            "a loop inside a loop",
        ),
        ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}", "macros and call blocks"),
    ],
)
def test_constructs_without_a_time_bound_are_refused_at_compile_time(text, message):
    with pytest.raises(TemplateProblem, match=message):
        compile_template(text)


def test_loops_one_after_another_are_allowed():
    text = "{% for a in 'ab' %}{{ a }}{% endfor %}{% for b in 'cd' %}{{ b }}{% endfor %}"
    assert render(text) == "abcd"


def flows_of(text: str) -> tuple[FlowSet | None, list]:
    flow, problems = compile_flow("f", "f.yaml", dedent(text).encode(), max_digits=128)
    return (FlowSet({"f": flow}, max_digits=128) if flow else None), problems


def test_a_bomb_fed_by_the_request_serves_the_fallback():
    flows, problems = flows_of(
        """\
        fallback: sorry
        steps:
          pad:
            - speak: "{{ 'x' * (variables.n | int) }}"
          sorry:
            - hangup: {}
        """
    )
    assert problems == []
    request = AnswerRequest(call={}, digits=None, variables={"n": "10000000000"})
    served = answer(flows, "f", "pad", "minivoice", request, "https://tf.test")
    assert served.fallback_from == "pad"
    assert "too large" in served.fallback_reason
    assert json.loads(served.body) == {"actions": [{"hangup": {}}]}


def test_a_constant_bomb_is_a_load_error_at_its_position():
    flows, problems = flows_of(
        """\
        steps:
          pad:
            - speak: "{{ 'x' * 10**10 }}"
        """
    )
    assert flows is None
    assert [(p.line, p.column) for p in problems] == [(3, 14)]
    assert "too large" in problems[0].message


def test_a_nested_loop_is_a_load_error_at_its_position():
    flows, problems = flows_of(
        """\
        steps:
          a:
            - speak: "{% for a in vars %}{% for b in vars %}{% endfor %}{% endfor %}"
        """
    )
    assert flows is None
    assert [(p.line, p.column) for p in problems] == [(3, 14)]
    assert "a loop inside a loop" in problems[0].message
