"""``toneflow dtmf`` commands, run through click's CliRunner with no Flask app."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from toneflow.cli.dtmf import dtmf


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(dtmf, list(args))


def test_convert_readme_example(run):
    result = run("convert", "QQQQ1234SQQQQQ6654P", "--from", "vicidial", "--to", "minivoice")
    assert result.exit_code == 0
    assert result.stdout == "WWWW1234*WWWWW6654#\n"
    assert result.stderr == ""


def test_convert_failure_is_an_error_line_on_stderr_and_exit_1(run):
    result = run("convert", "12w3", "--from", "minivoice", "--to", "vicidial")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "'w'" in result.stderr
    assert "position 3" in result.stderr


def test_convert_round_up(run):
    result = run("convert", "12w3", "--from", "minivoice", "--to", "vicidial", "--round-up")
    assert result.exit_code == 0
    assert result.stdout == "12Q3\n"


def test_convert_to_genesys_fails_even_when_rounding_up(run):
    result = run("convert", "1W2", "--from", "minivoice", "--to", "genesys", "--round-up")
    assert result.exit_code == 1
    assert "no pauses" in result.stderr


def test_dialect_options_are_a_choice(run):
    result = run("convert", "1", "--from", "klingon", "--to", "minivoice")
    assert result.exit_code == 2
    assert "klingon" in result.stderr


def test_timeline_table(run):
    result = run("timeline", "1w2", "--pause-before-ms", "1000")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["key", "position", "start", "ms", "end", "ms"]
    assert lines[1].split() == ["1", "1", "1000", "1100"]
    assert lines[2].split() == ["2", "3", "1700", "1800"]  # the gap, then the 500 ms pause
    assert lines[3] == "total: 1800 ms"
    assert len(lines) == 4  # no warnings


def test_timeline_options_and_warnings(run):
    result = run("timeline", "11", "--tone-ms", "50", "--gap-ms", "20")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[2].split() == ["1", "2", "70", "120"]
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert warnings[0].startswith("warning: position 1: ")
    assert warnings[1].startswith("warning: position 2: ")


def test_timeline_json(run):
    result = run("timeline", "QS1", "--dialect", "vicidial", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["tones"] == [
        {"key": "*", "position": 2, "start_ms": 1000, "end_ms": 1100},
        {"key": "1", "position": 3, "start_ms": 1200, "end_ms": 1300},
    ]
    assert data["total_ms"] == 1300
    assert data["warnings"] == []


def test_timeline_json_warnings_carry_positions(run):
    data = json.loads(run("timeline", "0123456789" * 4, "--dialect", "twilio", "--json").stdout)
    assert [(w["code"], w["position"]) for w in data["warnings"]] == [
        ("no_pause_after_connect", 1),
        ("run_too_long", 33),
    ]


def test_timeline_bad_text_exits_1(run):
    result = run("timeline", "12X", "--dialect", "minivoice")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid DTMF character 'X' at position 3")


def test_check_ok_with_warnings(run):
    result = run("check", "1223", "--dialect", "vobiz")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "ok"
    assert [line.split(":")[1].strip() for line in lines[1:]] == ["position 1", "position 3"]


def test_check_clean_sequence_prints_only_ok(run):
    result = run("check", "W1234#", "--dialect", "minivoice")
    assert result.exit_code == 0
    assert result.stdout == "ok\n"
    result = run("check", "1234#", "--dialect", "minivoice", "--pause-before-ms", "2000")
    assert result.stdout == "ok\n"


def test_check_error_exits_1(run):
    result = run("check", "QQ|", "--dialect", "vicidial")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: invalid DTMF character '|' at position 3 (vicidial allows 0-9 P S Q)\n"
    )


def test_check_applies_the_length_limit(run):
    assert run("check", "1" * 128, "--dialect", "genesys").exit_code == 0
    result = run("check", "1" * 129, "--dialect", "genesys")
    assert result.exit_code == 1
    assert "128" in result.stderr
    assert run("check", "1" * 129, "--dialect", "genesys", "--max-length", "200").exit_code == 0


def test_dialect_is_required_for_check(run):
    assert run("check", "1").exit_code == 2


# --- export: a flow step's send_digits, for another platform ---------------------------


@pytest.fixture
def export(monkeypatch, tmp_path):
    """Run `dtmf export` against a flows folder holding the given files."""

    def run_export(files: dict[str, str], *args: str):
        for name, text in files.items():
            (tmp_path / name).write_text(text)
        monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(tmp_path))
        return CliRunner().invoke(dtmf, ["export", *args])

    return run_export


BRIDGE = {
    "bridge.yaml": """\
vars: {pin: "1234"}
steps:
  join:
    - speak: Joining.
    - send_digits: {digits: "{{ vars.pin }}*WWWWW6654#", pause_before_ms: 4000}
    - send_digits: "{{ variables.extension }}w1"
"""
}


def test_export_writes_the_vicidial_seed_string_pause_included(export):
    result = export(
        BRIDGE, "bridge", "join", "--to", "vicidial", "--var", "extension=77", "--round-up"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "action 2: QQQQ1234SQQQQQ6654P\naction 3: 77Q1\n"


def test_export_is_exact_unless_asked_to_round_up(export):
    result = export(BRIDGE, "bridge", "join", "--to", "vicidial", "--var", "extension=77")
    assert result.exit_code == 1
    assert "action 3" in result.stderr and "500 ms pause" in result.stderr


def test_export_names_a_missing_variable(export):
    result = export(BRIDGE, "bridge", "join", "--to", "minivoice")
    assert result.exit_code == 1
    assert "action 3" in result.stderr and "extension" in result.stderr


def test_export_to_a_dialect_without_pauses_fails_on_pause_before(export):
    result = export(BRIDGE, "bridge", "join", "--to", "genesys", "--var", "extension=7")
    assert result.exit_code == 1
    assert "the 4000 ms pause before the digits" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "join"), "no flow named 'nope'"),
        (("bridge", "nope"), "has no step named 'nope'"),
    ],
)
def test_export_unknown_flow_or_step(export, args, message):
    result = export(BRIDGE, *args, "--to", "vobiz")
    assert result.exit_code == 1
    assert message in result.stderr


def test_export_a_step_without_digits(export):
    result = export({"x.yaml": "steps:\n  a:\n    - hangup: {}\n"}, "x", "a", "--to", "vobiz")
    assert result.exit_code == 1
    assert "sends no digits" in result.stderr


def test_export_refuses_a_broken_flow_and_shows_its_problems(export):
    result = export({"x.yaml": "steps:\n  a:\n    - speek: hi\n"}, "x", "a", "--to", "vobiz")
    assert result.exit_code == 1
    assert "x.yaml:3:7: error:" in result.stderr
