"""Hostile authoring: what a flow author, a caller's odd request and a fresh checkout meet.

Issue 10, items 14, 17 (lint/test), 18 and 19: JSON null and booleans spoken as Python
spells them, tracebacks from commands run without a flows folder, Jinja's internals as
the reason a call failed, lint messages that do not say what to write, and `toneflow
test` output mixed with log lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from toneflow.answer import AnswerFailed, answer
from toneflow.cli import cli
from toneflow.flows.compile import compile_flow
from toneflow.flows.registry import FlowSet
from toneflow.flows.templates import compile_template, render_template
from toneflow.request import AnswerRequest

ROOT = Path(__file__).resolve().parent.parent


def flows_of(text: str) -> FlowSet:
    flow, problems = compile_flow("f", "f.yaml", textwrap.dedent(text).encode(), max_digits=128)
    assert flow is not None, problems
    return FlowSet({"f": flow})


def lint(text: str) -> list[str]:
    _, problems = compile_flow("f", "f.yaml", textwrap.dedent(text).encode(), max_digits=128)
    return [str(p) for p in sorted(problems)]


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))
    return folder / name


# --- item 14: null, true and false ---------------------------------------------------------

SPOKEN = """\
fallback: sorry
steps:
  s:
    - speak: "[{{ variables.a }}] [{{ variables.b }}] [{{ variables.c }}]"
  route:
    switch: "{{ variables.a }}"
    cases: {"None": said_none, "true": said_true}
    default: nothing
  flag:
    switch: "{{ variables.b }}"
    cases: {"True": said_python, "true": said_true}
    default: nothing
  said_none: [{speak: none}]
  said_python: [{speak: python}]
  said_true: [{speak: "true"}]
  nothing: [{speak: nothing}]
  sorry: [{speak: sorry}]
"""
JSON_VALUES = {"a": None, "b": True, "c": False}


def test_null_true_false_are_spoken_as_json_spells_them_in_minivoice():
    served = answer(
        flows_of(SPOKEN), "f", "s", "minivoice", AnswerRequest(variables=JSON_VALUES), "http://x"
    )
    assert json.loads(served.body)["actions"] == [{"speak": {"text": "[] [true] [false]"}}]


def test_null_true_false_are_spoken_as_json_spells_them_in_ozml():
    served = answer(
        flows_of(SPOKEN), "f", "s", "ozml", AnswerRequest(variables=JSON_VALUES), "http://x"
    )
    assert b"<Speak>[] [true] [false]</Speak>" in served.body


@pytest.mark.parametrize("dialect", ["minivoice", "ozml"])
def test_a_switch_on_null_goes_to_default_and_on_true_to_the_true_case(dialect):
    flows = flows_of(SPOKEN)
    request = AnswerRequest(variables=JSON_VALUES)
    assert answer(flows, "f", "route", dialect, request, "http://x").step == "nothing"
    assert answer(flows, "f", "flag", dialect, request, "http://x").step == "said_true"


@pytest.mark.parametrize("dialect", ["minivoice", "ozml"])
def test_json_null_and_true_through_the_web_layer(client_for, dialect):
    client = client_for({"f.yaml": SPOKEN})
    body = {"call": {"id": "c1"}, "variables": JSON_VALUES}
    response = client.post(f"/answer/{dialect}/f/s", json=body)
    assert response.status_code == 200
    assert "[] [true] [false]" in response.get_data(as_text=True)
    assert client.post(f"/answer/{dialect}/f/route", json=body).status_code == 200


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)))
def test_no_json_scalar_is_written_the_python_way(value):
    compiled, _ = compile_template("{{ variables.v }}")
    written = render_template(compiled, {"variables": {"v": value}})
    expected = {None: "", True: "true", False: "false"}
    if value is None or isinstance(value, bool):
        assert written == expected[value]
    else:
        assert written == str(value)


# --- item 18: render failures in the flow's own words --------------------------------------

CODE = """\
steps:
  s:
    - speak: "Your code is {{ variables.confirmation_code }}."
"""


def test_a_missing_variable_is_named_in_the_500_reason():
    with pytest.raises(AnswerFailed) as failed:
        answer(flows_of(CODE), "f", "s", "minivoice", AnswerRequest(), "http://x")
    assert failed.value.failure.reason == (
        "action 1 (speak.text): `variables.confirmation_code` is not set for this call"
    )
    assert "dict object" not in str(failed.value)


def test_a_missing_variable_is_named_in_the_fallback_reason_and_the_500_body(client_for):
    client = client_for(
        {"f.yaml": CODE, "g.yaml": "fallback: sorry\n" + CODE + "  sorry:\n    - speak: Sorry.\n"}
    )
    response = client.post("/answer/minivoice/f/s", json={"call": {"id": "c1"}})
    assert response.status_code == 500
    message = response.get_json()["error"]["message"]
    assert "`variables.confirmation_code` is not set for this call" in message
    assert "dict object" not in message
    served = client.post("/answer/minivoice/g/s", json={"call": {"id": "c2"}})
    assert served.status_code == 200
    call = client.get("/api/calls/c2").get_json()
    assert "`variables.confirmation_code` is not set for this call" in json.dumps(call)
    assert "dict object" not in json.dumps(call)


@pytest.mark.parametrize(
    ("template", "context", "reason"),
    [
        ("{{ variables.order.code }}", {"variables": {"order": {}}}, "`variables.order.code`"),
        ("{{ call.from }}", {"call": {}}, "`call.from`"),
        ("{{ input.digits }}", {"input": {}}, "`input.digits`"),
        ("{{ variables['my-code'] }}", {"variables": {}}, "`variables['my-code']`"),
    ],
)
def test_every_request_root_is_named_as_a_template_writes_it(template, context, reason):
    from toneflow.flows.templates import render_failure  # new with the fix

    compiled, _ = compile_template(template)
    with pytest.raises(Exception) as err:
        render_template(compiled, context)
    assert render_failure(err.value, context) == f"{reason} is not set for this call"


def test_dtmf_export_says_which_var_to_pass(tmp_path, monkeypatch):
    flows = tmp_path / "flows"
    write(flows, "conf.yaml", 'steps:\n  join:\n    - send_digits: "{{ variables.pin }}#"\n')
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(flows))
    result = CliRunner().invoke(cli, ["dtmf", "export", "conf", "join", "--to", "ozml"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: action 1: `variables.pin` is not set for this call: pass --var pin=…\n"
    )
    passed = CliRunner().invoke(
        cli, ["dtmf", "export", "conf", "join", "--to", "ozml", "--var", "pin=1234"]
    )
    assert passed.exit_code == 0, passed.stderr
    assert "1234#" in passed.stdout


def test_lint_warns_when_a_request_template_has_no_fallback():
    assert lint(CODE) == [
        "f.yaml:3:14: warning: steps.s[0].speak.text: this template reads the request "
        "(variables), but the flow has no `fallback`: when it cannot render for a call, the "
        "platform gets a 500; add `fallback: <step>`"
    ]
    assert lint("fallback: s\n" + CODE) == []


def test_a_switch_on_input_with_no_fallback_is_not_warned_about():
    text = """\
    steps:
      route:
        switch: "{{ input.digits }}"
        cases: {"1": done}
        default: done
      done: [{hangup: {}}]
    """
    assert lint(text) == []


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            "hangup: now",
            "3:15: error: steps.a[0].hangup: hangup takes no value: write `hangup: {}`",
        ),
        (
            "send_digits: 123",
            "3:20: error: steps.a[0].send_digits.digits: must be text, not a number: "
            "write '123' in quotes",
        ),
        (
            "transfer: 15551234567",
            "3:17: error: steps.a[0].transfer.to: must be text, not a number: "
            "write '15551234567' in quotes",
        ),
        (
            "transfer: +15551234567",
            "3:17: error: steps.a[0].transfer.to: must be text, not a number: "
            "write '+15551234567' in quotes",
        ),
        (
            'redirect: "{{ variables.next }}"',
            "3:17: error: steps.a[0].redirect: redirect cannot be templated: use a switch "
            "step to choose the step per call",
        ),
        (
            'send_digits: {digits: "1", pause_before_ms: 2s}',
            "3:51: error: steps.a[0].send_digits.pause_before_ms: must be a whole number of "
            "milliseconds, e.g. 2000, not '2s'",
        ),
        (
            "collect_digits: {max_digits: 1, timeout_ms: 1.5 s, next: a}",
            "3:51: error: steps.a[0].collect_digits.timeout_ms: must be a whole number of "
            "milliseconds, e.g. 1500, not '1.5 s'",
        ),
        (
            'collect_digits: {max_digits: 1, timeout_ms: 500, next: "{{ input.digits }}"}',
            "3:62: error: steps.a[0].collect_digits.next: a step name cannot be a template: "
            "use a switch step to choose the step per call",
        ),
    ],
)
def test_each_unclear_mistake_gets_one_plain_message_with_a_hint(action, message):
    assert lint(f"steps:\n  a:\n    - {action}\n") == [f"f.yaml:{message}"]


# --- item 17: no flows folder --------------------------------------------------------------


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("command", ["lint", "test"])
def test_no_flows_folder_is_a_message_and_exit_2(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [command])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "flows: the flows folder does not exist" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("cli_env")
def test_no_flow_tests_folder_is_a_message_and_exit_2(tmp_path, monkeypatch):
    write(tmp_path / "flows", "a.yaml", "steps:\n  a: [{hangup: {}}]\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["test"])
    assert result.exit_code == 2
    assert "flows/tests: the flow tests folder does not exist" in result.stderr


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("command", ["lint", "test"])
def test_a_named_path_that_does_not_exist_is_a_usage_error(tmp_path, command):
    result = CliRunner().invoke(cli, [command, str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_a_fresh_folder_gets_no_traceback_from_the_real_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONEFLOW_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    for command in ("lint", "test"):
        done = subprocess.run(
            [str(Path(sys.executable).parent / "toneflow"), command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "the flows folder does not exist" in done.stderr


# --- item 19: clean test output, status with step ------------------------------------------


@pytest.mark.usefixtures("cli_env")
def test_flow_test_output_holds_no_log_lines_and_a_500_can_name_its_step(tmp_path):
    flows = tmp_path / "flows"
    write(flows, "strict.yaml", 'steps:\n  a:\n    - send_digits: "{{ variables.code }}"\n')
    test = write(
        flows / "tests",
        "strict.yaml",
        """\
        cases:
          - name: no code, no fallback
            requests:
              - status: 500
                step: a
                contains: [{error: {code: answer_url_error}}]
          - name: the wrong step is a failure
            requests:
              - status: 500
                step: b
        """,
    )
    result = CliRunner().invoke(cli, ["test", "--flows", str(flows), str(test)])
    lines = result.stdout.splitlines()
    assert lines[0] == f"{test}::no code, no fallback PASSED"
    assert lines[1] == f"{test}::the wrong step is a failure FAILED"
    assert "request 1: expected step 'b', served 'a'" in lines
    assert not [line for line in lines if line.startswith("{")], lines
    assert "answer_failed" not in result.output
    assert result.exit_code == 1
