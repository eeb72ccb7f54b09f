"""``toneflow test``: the shipped flow tests pass (this is how CI runs them), and a change
under a test fails it with a readable side-by-side diff."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from toneflow.cli import cli
from toneflow.flowtest.run import contains, ozml_actions, subset

ROOT = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.usefixtures("cli_env")


def run(*args: str):
    return CliRunner().invoke(cli, ["test", *args], catch_exceptions=False)


@pytest.fixture
def flows_copy(tmp_path) -> Path:
    """The shipped flows and their tests, in a folder a test may change."""
    return Path(shutil.copytree(ROOT / "flows", tmp_path / "flows"))


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))
    return folder / name


# --- the shipped flows ---------------------------------------------------------------------


def test_every_shipped_flow_has_tests():
    flows = {p.stem for p in (ROOT / "flows").glob("*.yaml")}
    tested = {p.stem for p in (ROOT / "flows" / "tests").glob("*.yaml")}
    assert flows <= tested


def test_the_shipped_flow_tests_pass():
    result = run()
    cases = sum(
        len(yaml.safe_load(p.read_text())["cases"]) for p in (ROOT / "flows/tests").glob("*.yaml")
    )
    lines = result.stdout.splitlines()
    assert result.exit_code == 0, result.stdout
    assert len([line for line in lines if line.endswith(" PASSED")]) == cases
    assert f" {cases} passed, 0 failed " in lines[-1]


# --- failures ------------------------------------------------------------------------------


def test_a_changed_flow_fails_its_test_with_the_actions_side_by_side(flows_copy):
    menu = flows_copy / "menu.yaml"
    menu.write_text(menu.read_text().replace("Connecting you to sales.", "Sales, hold on."))
    result = run("--flows", str(flows_copy), str(flows_copy / "tests" / "menu.yaml"))
    assert result.exit_code == 1
    out = result.stdout
    assert f"{flows_copy}/tests/menu.yaml::pressing 1 reaches sales FAILED" in out
    assert "request 3: POST /answer/minivoice/menu/route digits='1' -> 200 step 'sales'" in out
    assert "request 3: the actions differ" in out
    [row] = [line for line in out.splitlines() if " | " in line]
    expected, actual = row.split(" | ")
    assert expected.strip() == '{"speak": {"text": "Connecting you to sales."}}'
    assert actual.strip() == '{"speak": {"text": "Sales, hold on."}}'
    # The unchanged action sits on its own row, in both columns, unmarked.
    assert any(
        line.split() == ['{"transfer":', '{"to":', '"+15551230010"}}'] * 2
        for line in [line for line in out.splitlines() if "transfer" in line]
    )
    assert out.splitlines()[-1].count(" 4 passed, 1 failed ")


def test_a_different_step_is_named_with_what_was_served(flows_copy):
    menu = flows_copy / "menu.yaml"
    menu.write_text(menu.read_text().replace('"0": menu', '"0": goodbye'))
    result = run("--flows", str(flows_copy), str(flows_copy / "tests" / "menu.yaml"))
    assert result.exit_code == 1
    assert "request 2: expected step 'menu', served 'goodbye'" in result.stdout
    assert '  {"hangup": {}}' in result.stdout.splitlines()


def test_an_inserted_action_is_shown_alone_not_as_a_shifted_list():
    from toneflow.flowtest.report import side_by_side
    from toneflow.flowtest.run import Mismatch

    a, b, c = {"speak": {"text": "a"}}, {"hangup": {}}, {"play": {"url": "https://x/y"}}
    rows = side_by_side(Mismatch(1, None, "", [a, b], [a, c, b]))
    marks = [row[len(rows[0].split("actual")[0]) - 2] for row in rows[1:]]
    assert marks == [" ", ">", " "]


def test_a_call_that_ends_before_the_script_does_fails(tmp_path, flows_copy):
    test = write(
        tmp_path / "t",
        "conference_pin.yaml",
        """\
        cases:
          - name: one request too many
            requests:
              - step: join
              - step: join
        """,
    )
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 1
    assert (
        "request 2: the call ended at step 'join' (nothing in it leads on), but the test has "
        "1 more request(s)"
    ) in result.stdout


def test_a_failing_step_without_fallback_can_be_expected_as_a_500(tmp_path):
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
          - name: with a code
            variables: {code: "42"}
            requests:
              - step: a
                actions: [{send_digits: {digits: "42"}}]
        """,
    )
    result = run("--flows", str(flows), str(test))
    assert result.exit_code == 0, result.stdout
    assert "2 passed, 0 failed" in result.stdout


def test_a_broken_test_file_is_reported_with_its_position(tmp_path, flows_copy):
    test = write(
        tmp_path / "t",
        "menu.yaml",
        """\
        cases:
          - name: typo
            requestz: []
        """,
    )
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 1
    assert f"{test}:3:5: error: cases[0].requestz: unknown key 'requestz'" in result.stdout
    assert "0 passed, 0 failed, 2 error(s)" in result.stdout  # and `requests` is missing


def test_a_broken_flow_set_is_reported_not_run(tmp_path):
    flows = tmp_path / "flows"
    write(flows, "bad.yaml", "steps:\n  a:\n    - speek: hi\n")
    test = write(flows / "tests", "bad.yaml", "cases:\n  - name: x\n    requests: [{step: a}]\n")
    result = run("--flows", str(flows), str(test))
    assert result.exit_code == 1
    assert "the flows cannot be served" in result.stdout
    assert "bad.yaml:3:7: error: steps.a[0].speek: unknown action 'speek'" in result.stdout


def test_no_test_files_is_a_failure(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run(str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert "no flow test files" in result.stdout


# --- matching ------------------------------------------------------------------------------


def test_subset_matches_nested_mappings_by_their_given_keys():
    actual = {"collect_digits": {"max_digits": 1, "timeout_ms": 5000, "action_url": "u"}}
    assert subset({"collect_digits": {"max_digits": 1}}, actual)
    assert subset({"collect_digits": {}}, actual)
    assert not subset({"collect_digits": {"max_digits": 2}}, actual)
    assert not subset({"redirect": {}}, actual)


def test_contains_keeps_the_order():
    actual = [{"a": 1}, {"b": 2}, {"c": 3}]
    assert contains(actual, [{"a": 1}, {"c": 3}])
    assert contains(actual, [])
    assert not contains(actual, [{"c": 3}, {"a": 1}])
    assert not contains(actual, [{"a": 1}, {"a": 1}])


def test_ozml_elements_read_as_test_files_write_them():
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Delay>2</Delay>'
        '<SendDTMF Party="callee" Keys="12#"></SendDTMF><Speak Language="en">Hi</Speak>'
        "<Hangup></Hangup></Response>"
    )
    assert ozml_actions(body) == [
        {"Delay": "2"},
        {"SendDTMF": {"Party": "callee", "Keys": "12#"}},
        {"Speak": {"Language": "en", "text": "Hi"}},
        {"Hangup": ""},
    ]


# --- the far end ---------------------------------------------------------------------------


def test_a_greeting_that_discards_input_fails_the_seed_and_says_how_long_to_wait(flows_copy):
    test = flows_copy / "tests" / "conference_pin.yaml"
    test.write_text(test.read_text().replace("ms: 3500", "ms: 4500"))
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines.count("far end: received '4*6654#', expected '1234*6654#'") == 2
    assert (
        lines.count(
            "far end: key 1 at 4.0 s arrived during 'greeting' (0\u20134.5 s), which discards "
            "input: wait at least 4.5 s"
        )
        == 2
    )
    assert "  key 4 at 4.6 s (send 1, position 4): landed in 'pin'" in lines
    # The fix: QQQQQ, five seconds before the PIN.
    flow = flows_copy / "conference_pin.yaml"
    flow.write_text(flow.read_text().replace("pause_before_ms: 4000", "pause_before_ms: 5000"))
    test.write_text(
        test.read_text()
        .replace('Delay: "4"', 'Delay: "5"')
        .replace("pause_before_ms: 4000", "pause_before_ms: 5000")
    )
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 0, result.stdout


def test_a_far_end_description_is_checked_with_positions(tmp_path, flows_copy):
    test = write(
        tmp_path / "t",
        "conference_pin.yaml",
        """\
        cases:
          - name: x
            requests: [{step: join}]
            far_end:
              prompts:
                - {name: pin, ms: 2s, terminator: "**"}
                - {name: pin, ms: 100}
              inputs: {greeting: "1"}
        """,
    )
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 1
    out = result.stdout
    assert f"{test}:6:27: error: cases[0].far_end.prompts[0].ms: Not a valid integer." in out
    assert (
        f"{test}:6:43: error: cases[0].far_end.prompts[0].terminator: must be one DTMF key "
        "(0-9 * # A-D), or null"
    ) in out
    test.write_text(test.read_text().replace("2s", "2000").replace('"**"', '"*"'))
    out = run("--flows", str(flows_copy), str(test)).stdout
    assert "cases[0].far_end.prompts[1].name: a second prompt named 'pin'" in out
    test.write_text(test.read_text().replace("name: pin, ms: 100", "name: code, ms: 100"))
    out = run("--flows", str(flows_copy), str(test)).stdout
    assert (
        "cases[0].far_end.inputs: 'greeting' is not a prompt that takes input (those: code, pin)"
    ) in out


def test_a_far_end_must_say_what_it_receives(tmp_path, flows_copy):
    test = write(
        tmp_path / "t",
        "conference_pin.yaml",
        """\
        cases:
          - name: x
            requests: [{step: join}]
            far_end:
              prompts: [{name: pin, ms: 100}]
        """,
    )
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 1
    assert (
        f"{test}:5:7: error: cases[0].far_end.receives: say what the far end must receive"
        in result.stdout
    )


# --- one far end per party (OzML) ------------------------------------------------------------


def test_the_appointment_line_s_welcome_must_end_before_the_code(flows_copy):
    test = flows_copy / "tests" / "appointment.yaml"
    test.write_text(test.read_text().replace("ms: 1800", "ms: 2500"))
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "far end: received '4#', expected '1234#'" in lines
    assert (
        "far end: key 1 at 2.0 s arrived during 'welcome' (0\u20132.5 s), which discards "
        "input: wait at least 2.5 s"
    ) in lines


PARTIES_CASE = """\
    cases:
      - name: each party
        dialect: ozml
        requests: [{step: keys}]
        far_ends:
          caller: {prompts: [{name: code, ms: 2000, keys: 3}], receives: "123"}
          callee: {prompts: [{name: code, ms: 2000, keys: 3}], receives: "CALLEE"}
    """


def test_each_party_s_far_end_hears_only_the_sends_to_it(tmp_path, flows_copy):
    test = write(tmp_path / "t", "dtmf_parties.yaml", PARTIES_CASE.replace("CALLEE", "321"))
    assert run("--flows", str(flows_copy), str(test)).exit_code == 0
    test.write_text(PARTIES_CASE.replace("CALLEE", "123"))
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "far end (callee): received '321', expected '123'" in lines
    # one clock for the call: the callee's keys come after the caller's (send 2)
    assert "  key 3 at 0.5 s (send 2, position 1): landed in 'code'" in lines
    assert not any(line.startswith("far end (caller)") for line in lines)


def test_one_far_end_hears_every_party_s_sends(tmp_path, flows_copy):
    one = """\
        cases:
          - name: one far end
            dialect: ozml
            requests: [{step: keys}]
            far_end: {prompts: [{name: code, ms: 2000, keys: 6}], receives: "123321"}
        """
    test = write(tmp_path / "t", "dtmf_parties.yaml", one)
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 0, result.stdout


def test_sends_to_two_parties_back_to_back_are_two_sends(tmp_path):
    flows = tmp_path / "flows"
    write(
        flows,
        "pair.yaml",
        """\
        steps:
          keys:
            - send_digits: {digits: "12", party: caller}
            - send_digits: {digits: "W34", party: callee}
        """,
    )
    test = write(
        flows / "tests",
        "pair.yaml",
        """\
        cases:
          - name: back to back
            dialect: ozml
            requests: [{step: keys}]
            far_ends:
              caller: {prompts: [{name: code, ms: 100, keys: 2}], receives: "12"}
              callee: {prompts: [{name: wait, ms: 1200, discards: true, keys: 0},
                                 {name: code, ms: 100, keys: 2}], receives: "34"}
        """,
    )
    result = run("--flows", str(flows), str(test))
    assert result.exit_code == 0, result.stdout


@pytest.mark.parametrize(
    ("far_ends", "message"),
    [
        (
            "far_ends: {all: {prompts: [{name: c, ms: 1}], receives: '1'}}",
            "cases[0].far_ends.all.key: must be a party: caller or callee",
        ),
        (
            "far_ends: {caller: {prompts: [{name: c, ms: 1}], receives: '1'}}\n"
            "    far_end: {prompts: [{name: c, ms: 1}], receives: '1'}",
            "cases[0].far_ends: give `far_end` (every send reaches it) or `far_ends` "
            "(one per party), not both",
        ),
        (
            "far_ends: {caller: {prompts: [{name: c, ms: 1}], receives: '1'}}",
            "cases[0].far_ends: only OzML says which party hears a send (SendDTMF's Party): "
            "with minivoice every send reaches one far end, so use `far_end`",
        ),
    ],
)
def test_per_party_far_ends_are_checked(tmp_path, flows_copy, far_ends, message):
    dialect = "    dialect: ozml\n" if "all:" in far_ends or "far_end:" in far_ends else ""
    text = f"cases:\n  - name: x\n{dialect}    requests: [{{step: keys}}]\n    {far_ends}\n"
    test = write(tmp_path / "t", "dtmf_parties.yaml", text)
    result = run("--flows", str(flows_copy), str(test))
    assert result.exit_code == 1
    assert message in result.stdout, result.stdout
