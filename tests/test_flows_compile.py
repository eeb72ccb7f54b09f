"""Compiling one flow file: every error with its file:line:column, and what a good file becomes.

Inline files are dedented; every line and column asserted here was counted by hand in
the YAML shown beside it (1-based, as editors and the contract's lint format count).
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from toneflow.flows import model
from toneflow.flows.compile import compile_flow, flow_version
from toneflow.flows.problems import ERROR, Problem


def compile_text(text: str | bytes, name: str = "f", *, max_digits: int = 128):
    data = text if isinstance(text, bytes) else dedent(text).encode()
    return compile_flow(name, f"{name}.yaml", data, max_digits=max_digits)


def ok(text: str, **kwargs) -> model.Flow:
    """Compile a file with no errors (warnings are tested in test_flows_checks.py)."""
    flow, problems = compile_text(text, **kwargs)
    assert [p for p in problems if p.severity == ERROR] == []
    assert flow is not None
    return flow


def broken(text: str | bytes, **kwargs) -> list[Problem]:
    """The errors of a file that does not compile (its warnings left out)."""
    flow, problems = compile_text(text, **kwargs)
    assert flow is None
    errors = [p for p in problems if p.severity == ERROR]
    assert errors
    return errors


def at(problems: list[Problem], line: int, column: int) -> list[str]:
    """The messages reported at one position."""
    return [p.message for p in problems if (p.line, p.column) == (line, column)]


def positions(problems: list[Problem]) -> list[tuple[int, int]]:
    return [(p.line, p.column) for p in problems]


# --- unknown keys and actions --------------------------------------------------------------


def test_unknown_action_argument_with_did_you_mean():
    problems = broken(
        """\
        steps:
          a:
            - speak:
                txt: hi
        """
    )
    assert str(problems[0]) == (
        "f.yaml:4:9: error: steps.a[0].speak.txt: unknown key 'txt' (did you mean 'text'?)"
    )
    # The required field it stood for is missing, also reported (at the mapping).
    assert "steps.a[0].speak: missing required key 'text'" in at(problems, 4, 9)


def test_unknown_top_level_key_points_at_the_key_not_the_value():
    problems = broken(
        """\
        steps:
          a:
            - hangup: {}
        descripton: a menu
        """
    )
    assert [str(p) for p in problems] == [
        "f.yaml:4:1: error: descripton: unknown key 'descripton' (did you mean 'description'?)"
    ]


def test_unknown_key_without_a_close_match_suggests_nothing():
    problems = broken("steps:\n  a:\n    - hangup: {}\ncolour: red\n")
    assert [p.message for p in problems] == ["colour: unknown key 'colour'"]


def test_unknown_key_in_a_switch():
    problems = broken(
        """\
        steps:
          a:
            - hangup: {}
          route:
            switch: "{{ input.digits }}"
            cases: {"1": a}
            defualt: a
        """
    )
    assert at(problems, 7, 5) == [
        "steps.route.defualt: unknown key 'defualt' (did you mean 'default'?)"
    ]
    assert len(problems) == 1


def test_unknown_action_with_did_you_mean_at_its_key():
    problems = broken(
        """\
        steps:
          a:
            - speak: hi
            - sned_digits: "12"
        """
    )
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.line, problem.column) == (4, 7)
    assert problem.message == (
        "steps.a[1].sned_digits: unknown action 'sned_digits' (did you mean 'send_digits'?); "
        "actions are: send_digits, speak, play, collect_digits, redirect, transfer, hangup"
    )


def test_an_action_has_exactly_one_key():
    problems = broken(
        """\
        steps:
          a:
            - speak: hi
              hangup: {}
        """
    )
    assert positions(problems) == [(3, 7)]
    assert "exactly one key" in problems[0].message


# --- digits -------------------------------------------------------------------------------


def test_bad_digits_name_the_character_and_its_position():
    problems = broken(
        """\
        steps:
          a:
            - send_digits: "12x4"
        """
    )
    assert [str(p) for p in problems] == [
        "f.yaml:3:23: error: steps.a[0].send_digits.digits: invalid DTMF character 'x' "
        "at position 3 (minivoice allows 0-9 * # A-D w W ,)"
    ]


def test_bad_digits_in_the_long_form():
    problems = broken(
        """\
        steps:
          a:
            - send_digits:
                digits: "1 2"
                pause_before_ms: 1000
        """
    )
    assert positions(problems) == [(4, 19)]  # the space itself
    assert "invalid DTMF character ' ' at position 2" in problems[0].message


def test_empty_digits_are_refused():
    problems = broken('steps:\n  a:\n    - send_digits: ""\n')
    assert positions(problems) == [(3, 20)]
    assert problems[0].message.endswith("DTMF sequence is empty")


def test_digits_must_be_text_not_a_number():
    # YAML reads 0123 as a number; silently sending "83" (octal) or "123" would be wrong.
    problems = broken("steps:\n  a:\n    - send_digits: 0123\n")
    assert positions(problems) == [(3, 20)]


def test_max_digits_is_enforced_on_literal_digits():
    flow = ok('steps:\n  a:\n    - send_digits: "12w4"\n', max_digits=4)
    assert flow.steps["a"].actions[0].digits == "12w4"
    problems = broken('steps:\n  a:\n    - send_digits: "12345"\n', max_digits=4)
    assert positions(problems) == [(3, 20)]
    assert "DTMF sequence is 5 characters long; the limit is 4" in problems[0].message


def test_default_limit_128_digits():
    ok(f'steps:\n  a:\n    - send_digits: "{"1" * 128}"\n')
    broken(f'steps:\n  a:\n    - send_digits: "{"1" * 129}"\n')


# --- numbers ------------------------------------------------------------------------------

RANGES = """\
steps:
  a:
    - send_digits:
        digits: "1"
        pause_before_ms: {pause}
    - collect_digits:
        max_digits: {max_digits}
        timeout_ms: {timeout}
        next: a
"""


def ranges(pause="0", max_digits="1", timeout="100") -> str:
    return RANGES.format(pause=pause, max_digits=max_digits, timeout=timeout)


@pytest.mark.parametrize(
    ("values", "line", "column", "message"),
    [
        (
            {"pause": "60001"},
            5,
            26,
            "steps.a[0].send_digits.pause_before_ms: "
            "Must be greater than or equal to 0 and less than or equal to 60000.",
        ),
        ({"pause": "-1"}, 5, 26, "pause_before_ms: Must be greater than or equal to 0"),
        ({"pause": "1.5"}, 5, 26, "pause_before_ms: must be a whole number"),
        ({"pause": "true"}, 5, 26, "pause_before_ms: must be a whole number"),
        (
            {"max_digits": "65"},
            7,
            21,
            "steps.a[1].collect_digits.max_digits: "
            "Must be greater than or equal to 1 and less than or equal to 64.",
        ),
        ({"max_digits": "0"}, 7, 21, "max_digits: Must be greater than or equal to 1"),
        (
            {"timeout": "99"},
            8,
            21,
            "steps.a[1].collect_digits.timeout_ms: "
            "Must be greater than or equal to 100 and less than or equal to 60000.",
        ),
        ({"timeout": "60001"}, 8, 21, "timeout_ms: Must be greater than or equal to 100"),
    ],
)
def test_out_of_range_numbers(values, line, column, message):
    problems = broken(ranges(**values))
    assert positions(problems) == [(line, column)]
    assert message in problems[0].message


@pytest.mark.parametrize(
    "values",
    [
        {"pause": "0", "max_digits": "1", "timeout": "100"},
        {"pause": "60000", "max_digits": "64", "timeout": "60000"},
        {"pause": "2000.0"},  # a whole number written as a float is still whole
    ],
)
def test_range_limits_are_inclusive(values):
    flow = ok(ranges(**values))
    send, collect = flow.steps["a"].actions
    assert send.pause_before_ms == int(float(values["pause"]))
    assert collect.max_digits == int(values.get("max_digits", "1"))


def test_finish_on_key_must_be_a_key():
    problems = broken(
        "steps:\n  a:\n    - collect_digits: {max_digits: 1, timeout_ms: 100, next: a, "
        "finish_on_key: A}\n"
    )
    assert positions(problems) == [(3, 80)]
    assert "finish_on_key: Must be one of" in problems[0].message


# --- steps named but missing ----------------------------------------------------------------


def test_every_reference_to_a_missing_step_is_reported_where_it_is_written():
    problems = broken(
        """\
        start: nope
        fallback: nah
        steps:
          a:
            - redirect: b
            - redirect: {step: bb}
            - collect_digits: {max_digits: 1, timeout_ms: 1000, next: c}
          s:
            switch: "{{ input.digits }}"
            cases: {"1": x}
            default: y
        """
    )
    assert [str(p) for p in problems] == [
        "f.yaml:1:8: error: start names step 'nope', which does not exist",
        "f.yaml:2:11: error: fallback names step 'nah', which does not exist",
        "f.yaml:5:17: error: steps.a[0].redirect: redirect names step 'b', which does not exist",
        "f.yaml:6:24: error: steps.a[1].redirect.step: redirect names step 'bb', "
        "which does not exist",
        "f.yaml:7:63: error: steps.a[2].collect_digits.next: next names step 'c', "
        "which does not exist",
        "f.yaml:10:18: error: steps.s.cases.1: case '1' names step 'x', which does not exist",
        "f.yaml:11:14: error: steps.s.default: default names step 'y', which does not exist",
    ]


def test_missing_step_suggests_a_close_name():
    problems = broken(
        """\
        steps:
          a:
            - redirect: dnoe
          done:
            - hangup: {}
        """
    )
    assert [p.message for p in problems] == [
        "steps.a[0].redirect: redirect names step 'dnoe', which does not exist "
        "(did you mean 'done'?)"
    ]


def test_existing_references_compile():
    flow = ok(
        """\
        start: b
        fallback: c
        steps:
          a:
            - collect_digits: {max_digits: 1, timeout_ms: 1000, next: s}
          b:
            - redirect: a
          c:
            - hangup:
          s:
            switch: "{{ input.digits }}"
            cases: {1: a, "2": b}
            default: c
        """
    )
    assert flow.start == "b"
    assert flow.fallback == "c"
    assert flow.steps["s"].switch.cases == {"1": "a", "2": "b"}
    assert flow.steps["s"].switch.default == "c"


# --- templates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '"{{ secrets.x }}"',
            "template uses 'secrets', which is not in the template context "
            "(call, variables, input, vars)",
        ),
        ('"{{ call.id "', "template error: unexpected end of template"),
        ('"{{ call.id | nofilter }}"', "template error: No filter named 'nofilter'"),
        ('"{% for x in vars %}"', "template error: Unexpected end of template"),
        ('"{{ os }} and {{ environ }}"', "template uses 'environ', 'os', which is not"),
    ],
)
def test_template_errors_at_the_value(value, message):
    problems = broken(f"steps:\n  a:\n    - speak: {value}\n")
    assert positions(problems) == [(3, 14)]
    assert problems[0].message.startswith("steps.a[0].speak.text: ")
    assert message in problems[0].message


def test_template_errors_in_digits_and_switch():
    problems = broken(
        """\
        steps:
          a:
            - send_digits:
                digits: "{{ env.PIN }}#"
          s:
            switch: "{{ request.args }}"
            cases: {"1": a}
        """
    )
    assert positions(problems) == [(4, 17), (6, 13)]
    assert "template uses 'env'" in problems[0].message
    assert "template uses 'request'" in problems[1].message


def test_templates_are_kept_for_each_request():
    flow = ok(
        """\
        steps:
          a:
            - send_digits:
                digits: "{{ variables.code }}#"
                pause_before_ms: "{{ vars.wait }}"
        vars:
          wait: 500
        """
    )
    (send,) = flow.steps["a"].actions
    assert isinstance(send.digits, model.TemplateSource)
    assert send.digits.text == "{{ variables.code }}#"
    # The pause uses only the flow's vars: resolved (and validated) at load time.
    assert send.pause_before_ms == 500
    assert model.templated_fields(send) == ["digits"]
    assert not flow.steps["a"].is_static
    assert flow.vars == {"wait": 500}


# --- switches ---------------------------------------------------------------------------------


def test_switch_without_cases():
    problems = broken(
        """\
        steps:
          a:
            - hangup: {}
          s:
            switch: "{{ input.digits }}"
            default: a
        """
    )
    assert [str(p) for p in problems] == [
        "f.yaml:5:5: error: steps.s: missing required key 'cases'"
    ]


def test_switch_with_empty_cases():
    problems = broken(
        """\
        steps:
          a:
            - hangup: {}
          s:
            switch: "{{ input.digits }}"
            cases: {}
            default: a
        """
    )
    assert [str(p) for p in problems] == ["f.yaml:6:12: error: steps.s.cases: must not be empty"]


def test_a_mapping_step_without_switch():
    problems = broken("steps:\n  a:\n    cases: {'1': a}\n")
    assert positions(problems) == [(3, 5)]
    assert "a mapping with `switch` and `cases`" in problems[0].message


def test_case_target_must_be_a_valid_name():
    problems = broken("steps:\n  a:\n    switch: x\n    cases: {'1': Sales}\n")
    assert set(positions(problems)) == {(4, 18)}
    assert any("'Sales' is not a valid name" in p.message for p in problems)


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Bad", "-x", "_x", "a.b", "a b", "é", "x" * 65])
def test_invalid_step_names_point_at_the_key(name):
    problems = broken(f"steps:\n  ok:\n    - hangup: {{}}\n  '{name}':\n    - hangup: {{}}\n")
    assert positions(problems) == [(4, 3)]
    assert problems[0].message.startswith(f"steps.{name}: key '{name}' is not a valid name")


@pytest.mark.parametrize("name", ["a", "0", "a-b_c9", "x" * 64])
def test_valid_step_names(name):
    assert list(ok(f"steps:\n  '{name}':\n    - hangup: {{}}\n").steps) == [name]


@pytest.mark.parametrize("name", ["Menu", "my.menu", "-menu", "", "x" * 65, "menü"])
def test_invalid_file_names(name):
    problems = broken("steps:\n  a:\n    - hangup: {}\n", name=name)
    assert [(p.line, p.column) for p in problems] == [(1, 1)]
    assert f"the file name '{name}' is not a valid flow name" in problems[0].message
    assert problems[0].file == f"{name}.yaml"


def test_invalid_file_name_is_reported_beside_the_file_errors():
    problems = broken("steps:\n  a:\n    - speek: hi\n", name="Bad")
    assert positions(problems) == [(1, 1), (3, 7)]


# --- the file itself ---------------------------------------------------------------------------


def test_non_utf8_file_points_at_the_first_bad_byte():
    problems = broken(b"steps:\n  a:\n    - speak: caf\xe9\n")
    assert positions(problems) == [(3, 17)]
    assert problems[0].message.startswith("the file is not UTF-8")


def test_non_utf8_column_counts_characters_not_bytes():
    problems = broken("steps:\n  a:\n    - speak: né ".encode() + b"\xff\n")
    assert positions(problems) == [(3, 17)]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("steps:\n  a: [\n", 3, 1, "YAML syntax: "),
        ("", 1, 1, "the file is empty"),
        ("steps:\n  a:\n    - hangup: {}\n  a:\n    - hangup: {}\n", 4, 3, "duplicate key 'a'"),
        ("steps: !!python/object/apply:os.system ['true']\n", 1, 8, "is not allowed"),
        ("- a\n", 1, 1, "a flow file is a mapping with at least `steps`"),
        ("---\n", 2, 1, "a flow file is a mapping with at least `steps`"),  # an empty document
        ("description: x\n", 1, 1, "missing required key 'steps'"),
        ("steps: {}\n", 1, 8, "steps: must not be empty"),
        ("steps:\n  a: []\n", 2, 6, "a step needs at least one action"),
    ],
)
def test_file_level_errors(text, line, column, message):
    problems = broken(text)
    assert positions(problems) == [(line, column)]
    assert message in problems[0].message


def test_every_error_of_a_file_is_reported_at_once():
    problems = broken(
        """\
        start: nowhere
        party: everybody
        steps:
          a:
            - speak:
                txt: hi
            - send_digits: "12x"
            - redirect: missing
            - play: "{{ secrets.url }}"
            - collect_digits: {max_digits: 99, timeout_ms: 1000, next: a}
          Bad:
            - hangup: {}
        """
    )
    assert sorted(positions(problems)) == [
        (1, 8),  # start names a missing step
        (2, 8),  # party is not caller, callee or all
        (6, 9),  # unknown key txt
        (6, 9),  # ... so text is missing
        (7, 23),  # bad digit: the x itself
        (8, 17),  # redirect to a missing step
        (9, 13),  # template name outside the context
        (10, 36),  # max_digits out of range
        (11, 3),  # invalid step name
    ]


# --- what a good file becomes --------------------------------------------------------------------

LONG = """\
steps:
  a:
    - send_digits:
        digits: "1234#"
    - speak:
        text: Hello there
    - play:
        url: https://example.com/a.wav
    - transfer:
        to: "+15551230000"
    - redirect:
        step: b
  b:
    - hangup: {}
"""

SHORT = """\
steps:
  a:
    - send_digits: "1234#"
    - speak: Hello there
    - play: https://example.com/a.wav
    - transfer: "+15551230000"
    - redirect: b
  b:
    - hangup:
"""


def test_shorthand_forms_load_the_same_as_long_forms():
    long, short = ok(LONG), ok(SHORT)
    assert short.steps == long.steps
    assert long.steps["a"].actions == (
        model.SendDigits("1234#"),
        model.Speak("Hello there"),
        model.Play("https://example.com/a.wav"),
        model.Transfer("+15551230000"),
        model.Redirect("b"),
    )
    assert long.steps["b"].actions == (model.Hangup(),)
    assert long.version != short.version


def test_start_defaults_to_the_first_step_in_the_file():
    flow = ok("steps:\n  zeta:\n    - redirect: alpha\n  alpha:\n    - hangup: {}\n")
    assert flow.start == "zeta"
    assert list(flow.steps) == ["zeta", "alpha"]


def test_file_level_settings_and_defaults():
    flow = ok(
        """\
        description: A test flow
        party: caller
        fallback: b
        vars: {pin: "1234"}
        steps:
          a:
            - send_digits: {digits: "1", party: all}
          b:
            - hangup: {}
        """,
        name="my-flow_2",
    )
    assert (flow.name, flow.path) == ("my-flow_2", "my-flow_2.yaml")
    assert (flow.description, flow.party, flow.fallback) == ("A test flow", "caller", "b")
    assert flow.vars == {"pin": "1234"}
    assert flow.steps["a"].actions[0].party == "all"
    plain = ok("steps:\n  a:\n    - hangup: {}\n")
    assert (plain.party, plain.fallback, plain.description, plain.vars) == (
        "callee",
        None,
        None,
        {},
    )


def test_flow_version_is_a_content_hash():
    text = "steps:\n  a:\n    - speak: hello\n"
    first, again = ok(text), ok(text)
    changed = ok(text.replace("hello", "hellO"))
    assert first.version == again.version == flow_version(text.encode())
    assert changed.version != first.version
    assert len(first.version) == 12
    int(first.version, 16)
    # A comment is a change to the file too: the timeline names the exact bytes served.
    assert ok(text + "# note\n").version != first.version


def test_terminal_and_static_steps():
    flow = ok(
        """\
        steps:
          a:
            - speak: hi
            - collect_digits: {max_digits: 1, timeout_ms: 1000, next: b}
          b:
            - speak: "{{ input.digits }}"
            - redirect: c
          c:
            - hangup: {}
          s:
            switch: x
            cases: {x: c}
        """
    )
    steps = flow.steps
    assert [steps[n].terminal for n in "abcs"] == [False, False, True, False]
    assert [steps[n].is_static for n in "abcs"] == [True, False, True, False]


def test_templates_using_only_vars_are_resolved_when_the_file_loads():
    """They are the same for every call: served as stored bytes, checked before serving."""
    flow, problems = compile_flow(
        "pin",
        "pin.yaml",
        b"""\
vars: {pin: "1234", code: "6654"}
steps:
  join:
    - send_digits: {digits: "{{ vars.pin }}*W{{ vars.code }}#", pause_before_ms: 4000}
""",
        max_digits=128,
    )
    assert problems == []
    step = flow.steps["join"]
    assert step.is_static
    assert step.actions[0].digits == "1234*W6654#"


def test_a_vars_template_that_renders_bad_digits_is_a_load_error_with_its_position():
    _, problems = compile_flow(
        "pin",
        "pin.yaml",
        b"""\
vars: {pin: "12X4"}
steps:
  join:
    - send_digits:
        digits: "{{ vars.pin }}#"
    - speak: "{{ ''.__class__.__mro__ }}"
""",
        max_digits=128,
    )
    assert [(p.line, p.column) for p in problems] == [(5, 17), (6, 14)]
    assert "invalid DTMF character 'X' at position 3" in problems[0].message
    assert "unsafe" in problems[1].message
