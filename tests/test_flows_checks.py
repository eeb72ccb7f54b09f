"""The checks beyond the schema: endless redirect loops, unreachable steps, OzML warnings.

Lines and columns are counted by hand in the YAML beside each test (1-based).
"""

from __future__ import annotations

from textwrap import dedent

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toneflow.flows.compile import compile_flow
from toneflow.flows.problems import ERROR, WARNING


def check(text: str):
    return compile_flow("f", "f.yaml", dedent(text).encode(), max_digits=128)


def found(text: str) -> list[tuple[int, int, str, str]]:
    _, problems = check(text)
    return sorted((p.line, p.column, p.severity, p.message) for p in problems)


# --- redirect loops -----------------------------------------------------------------------


def test_a_step_redirecting_to_itself_is_an_error_at_the_redirect():
    flow, problems = check(
        """\
        steps:
          a:
            - speak: hi
            - redirect: a
        """
    )
    assert flow is None
    assert [str(p) for p in problems] == [
        "f.yaml:4:17: error: steps.a[1].redirect: step 'a' redirects to itself with no input "
        "in between: the call would loop forever"
    ]


def test_a_longer_redirect_cycle_is_reported_once_at_its_first_step():
    problems = found(
        """\
        steps:
          a:
            - redirect: b
          b:
            - redirect: {step: c}
          c:
            - redirect: a
        """
    )
    assert problems == [
        (
            3,
            17,
            ERROR,
            "steps.a[0].redirect: redirects go round 'a' -> 'b' -> 'c' -> 'a' with no input "
            "in between: the call would loop forever",
        )
    ]


def test_collecting_digits_in_the_loop_makes_it_fine():
    flow, problems = check(
        """\
        steps:
          menu:
            - collect_digits: {max_digits: 1, timeout_ms: 5000, next: route}
            - redirect: menu
          route:
            switch: "{{ input.digits }}"
            cases: {"1": menu}
            default: done
          done:
            - hangup: {}
        """
    )
    assert flow is not None
    assert problems == []


def test_a_loop_through_a_switch_is_not_an_error():
    # The switch decides on the request: the loop may end.
    _, problems = check(
        """\
        steps:
          a:
            - redirect: s
          s:
            switch: "{{ variables.again }}"
            cases: {"yes": a}
            default: done
          done:
            - hangup: {}
        """
    )
    assert [p for p in problems if p.severity == ERROR] == []


def test_loops_are_reported_beside_schema_errors():
    problems = found(
        """\
        steps:
          a:
            - speek: hi
            - redirect: a
        """
    )
    assert [(line, column) for line, column, _, _ in problems] == [(3, 7), (4, 17)]


# --- unreachable steps --------------------------------------------------------------------


def test_a_step_no_path_reaches_is_a_warning_at_its_name():
    flow, problems = check(
        """\
        start: a
        fallback: sorry
        steps:
          lost:
            - hangup: {}
          a:
            - collect_digits: {max_digits: 1, timeout_ms: 5000, next: b}
          b:
            switch: "{{ input.digits }}"
            cases: {"1": c}
          c:
            - hangup: {}
          sorry:
            - hangup: {}
        """
    )
    assert flow is not None  # a warning does not stop the flow from serving
    assert [(p.line, p.column, p.severity) for p in problems] == [(4, 3, WARNING)]
    assert problems[0].message == (
        "steps.lost: step 'lost' is never reached: no path leads to it from the start step "
        "or the fallback"
    )


def test_without_start_the_first_step_is_the_root():
    assert found("steps:\n  a:\n    - hangup: {}\n  b:\n    - hangup: {}\n") == [
        (
            4,
            3,
            WARNING,
            "steps.b: step 'b' is never reached: no path leads to it from the "
            "start step or the fallback",
        )
    ]


def test_a_missing_start_step_reports_no_unreachable_steps():
    problems = found("start: nope\nsteps:\n  a:\n    - hangup: {}\n")
    assert [severity for _, _, severity, _ in problems] == [ERROR]


# --- OzML warnings ------------------------------------------------------------------------


def test_a_to_d_warns_at_each_letter():
    flow, problems = check(
        """\
        steps:
          a:
            - send_digits: "1A2D#"
        """
    )
    assert flow is not None
    assert [(p.line, p.column, p.severity) for p in problems] == [
        (3, 22, WARNING),
        (3, 24, WARNING),
    ]
    assert problems[0].message == (
        "steps.a[0].send_digits.digits: cannot send key 'A' at position 2 in ozml "
        "(ozml allows 0-9 * #): served as OzML, this step fails"
    )


def test_sub_second_pauses_warn_at_the_pause():
    problems = found(
        """\
        steps:
          a:
            - send_digits:
                digits: "1w2W3,,,4"
                pause_before_ms: 1500
        """
    )
    assert problems == [
        (
            4,
            19,
            WARNING,
            "steps.a[0].send_digits.digits: a 500 ms pause at position 2 "
            "becomes 1 s in OzML (rounded up to whole seconds)",
        ),
        (
            4,
            23,
            WARNING,
            "steps.a[0].send_digits.digits: a 1500 ms pause at position 6 "
            "becomes 2 s in OzML (rounded up to whole seconds)",
        ),
        (
            5,
            26,
            WARNING,
            "steps.a[0].send_digits.pause_before_ms: a 1500 ms pause before the "
            "digits (pause_before_ms) becomes 2 s in OzML (rounded up to whole seconds)",
        ),
    ]


def test_pause_before_ms_joins_an_opening_pause():
    problems = found('steps:\n  a:\n    - send_digits: {digits: "w1", pause_before_ms: 1000}\n')
    assert [(line, column) for line, column, _, _ in problems] == [(3, 30)]
    assert "a 1500 ms pause at position 1 (with pause_before_ms) becomes 2 s" in problems[0][3]


def test_whole_second_pauses_do_not_warn():
    assert found('steps:\n  a:\n    - send_digits: {digits: "1WW2", pause_before_ms: 2000}\n') == []


def test_a_sub_second_timeout_warns():
    problems = found(
        "steps:\n  a:\n    - collect_digits: {max_digits: 1, timeout_ms: 2500, next: a}\n"
    )
    assert problems == [
        (
            3,
            51,
            WARNING,
            "steps.a[0].collect_digits.timeout_ms: timeout_ms 2500 becomes "
            "Timeout 3 s in OzML (rounded up to whole seconds)",
        )
    ]


def test_digits_from_vars_warn_at_the_value():
    problems = found(
        """\
        vars: {code: "1A"}
        steps:
          a:
            - send_digits: "{{ vars.code }}"
        """
    )
    # The letter is in vars, not in the text written here: point at the value.
    assert [(line, column) for line, column, _, _ in problems] == [(4, 20)]


def test_digits_rendered_per_request_are_not_guessed_at():
    text = 'fallback: a\nsteps:\n  a:\n    - send_digits: "{{ variables.code }}w"\n'
    assert found(text) == []


@given(st.text(alphabet="0123456789*#ABCDwW,", min_size=1, max_size=20))
def test_warning_columns_point_at_the_character_they_name(digits):
    text = f'steps:\n  a:\n    - send_digits: "{digits}"\n'
    _, problems = compile_flow("f", "f.yaml", text.encode(), max_digits=128)
    line = text.splitlines()[2]
    for problem in problems:
        assert problem.severity == WARNING
        position = int(problem.message.split("at position ")[1].split()[0])
        assert line[problem.column - 1] == digits[position - 1]


@pytest.mark.parametrize("char", ["X", " ", "e", "9x"[1]])
def test_a_bad_digit_points_at_itself_in_every_quoting_style(char):
    for written in (f"12{char}4", f"'12{char}4'", f'"12{char}4"'):
        if char == " " and "'" not in written and '"' not in written:
            continue  # a plain scalar cannot hold that space in the middle unquoted
        text = f"steps:\n  a:\n    - send_digits: {written}\n"
        _, problems = compile_flow("f", "f.yaml", text.encode(), max_digits=128)
        [problem] = problems
        assert text.splitlines()[2][problem.column - 1] == char


LINES = [
    "  a:",
    "  b:",
    "  a: [",
    "    - redirect: a",
    "    - redirect: {step: b}",
    "    - redirect: c",
    '    - send_digits: "1A,2"',
    '    - send_digits: {digits: "w1", pause_before_ms: 300}',
    "    - collect_digits: {max_digits: 1, timeout_ms: 1500, next: b}",
    "    switch: '{{ input.digits }}'",
    "    cases: {'1': a, '2': a}",
    "    default: b",
    "    - speak: '{{ nope }}'",
    "    - hangup: {}",
    "    - hangup: {}\n      speak: x",
    "\t",
    "start: b",
    "fallback: a",
]


@given(st.lists(st.sampled_from(LINES), max_size=12))
def test_any_mix_of_lines_gives_problems_inside_the_file(lines):
    """Lint never crashes, and every position it gives is a place in the file."""
    text = "steps:\n" + "\n".join(lines) + "\n"
    _, problems = compile_flow("f", "f.yaml", text.encode(), max_digits=128)
    file_lines = text.split("\n")
    for problem in problems:
        assert 1 <= problem.line <= len(file_lines), problem
        assert 1 <= problem.column <= len(file_lines[problem.line - 1]) + 1, problem


def test_input_counts_only_before_the_redirect():
    problems = found(
        """\
        steps:
          a:
            - redirect: a
            - collect_digits: {max_digits: 1, timeout_ms: 5000, next: a}
        """
    )
    assert [(line, column, severity) for line, column, severity, _ in problems] == [(3, 17, ERROR)]
