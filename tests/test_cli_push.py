"""``toneflow push`` and ``toneflow lint --platform``, as a user runs them: against the
local seed servers, with the store the command is configured with."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from platform_servers import AGENT, GENESYS_CALL, PlatformServer
from support import PROJECT_FLOWS
from test_push_plan import PUSH_FLOWS

from toneflow.cli import cli
from toneflow.store.records import read_call


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def vicidial(command_engine, monkeypatch):
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(PROJECT_FLOWS))
    with PlatformServer("vicidial") as server:
        for key, value in server.config.items():
            monkeypatch.setenv(f"TONEFLOW_{key}", value)
        yield server


def test_push_sends_the_seed_value_and_the_timeline_shows_it(vicidial, command_engine):
    result = invoke("push", "vicidial", "conference_pin", "join", "--call", AGENT)
    assert result.exit_code == 0, result.output
    assert vicidial.received[0].query["value"] == "QQQQ1234SQQQQQ6654P"
    lines = result.output.splitlines()
    assert lines[0].startswith("request 1 (action 1): GET http://127.0.0.1:")
    assert lines[0].endswith(
        "/agc/api.php?source=toneflow&user=6666&pass=****&agent_user=1000"
        "&function=send_dtmf&value=QQQQ1234SQQQQQ6654P"
    )
    assert lines[1].startswith(
        "  -> 200 SUCCESS: send_dtmf function set - QQQQ1234SQQQQQ6654P|6666"
    )
    assert lines[-1].endswith("on the timeline of call 1000 (toneflow calls show 1000)")
    assert "1234" not in lines[0].split("pass=")[1].split("&")[0]
    (push,) = read_call(command_engine, AGENT)["pushes"]
    assert push["ok"] and push["requests"][0]["reply"].startswith("SUCCESS")
    shown = invoke("calls", "show", AGENT)
    assert "PUSH vicidial (agent_user 1000): step conference_pin/join, taken, 1 request(s)" in (
        shown.output
    )
    assert "value=QQQQ1234SQQQQQ6654P" in shown.output
    record = json.loads(invoke("calls", "show", AGENT, "--json").output)
    assert record["pushes"][0]["sends"][0]["digits"] == "1234*WWWWW6654#"


def test_a_dry_run_prints_every_request_masked_and_sends_nothing(vicidial, command_engine):
    result = invoke("push", "vicidial", "conference_pin", "join", "--call", AGENT, "--dry-run")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "would send to VICIdial, in order (secrets masked):"
    assert "pass=****" in result.output and "value=QQQQ1234SQQQQQ6654P" in result.output
    assert vicidial.received == []
    assert read_call(command_engine, AGENT) is None


def test_a_failed_push_exits_1_and_is_recorded(vicidial, command_engine):
    result = invoke("push", "vicidial", "conference_pin", "join", "--call", "2000")
    assert result.exit_code == 1
    assert "  !! VICIdial: agent '2000' is not logged in" in result.output
    assert result.output.endswith(
        "error: the platform did not take the digits (request 1); recorded on the timeline of "
        "call 2000 (toneflow calls show 2000)\n"
    )
    assert read_call(command_engine, "2000")["pushes"][0]["ok"] is False


def test_genesys_is_refused_naming_the_star_before_anything_is_sent(command_engine, monkeypatch):
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(PROJECT_FLOWS))
    result = invoke("push", "genesys", "conference_pin", "join", "--call", GENESYS_CALL)
    assert result.exit_code == 1
    assert result.output == (
        "error: nothing was sent: action 1 (digits '1234*WWWWW6654#'): cannot send key '*' at "
        "position 5 in genesys (genesys allows 0-9)\n"
    )


def test_a_platform_not_configured_is_refused_naming_its_variables(command_engine, monkeypatch):
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(PROJECT_FLOWS))
    result = invoke("push", "vobiz", "conference_pin", "join", "--call", "c1")
    assert result.exit_code == 2
    assert result.output == (
        "error: Vobiz is not configured: TONEFLOW_VOBIZ_URL, TONEFLOW_VOBIZ_AUTH_ID, "
        "TONEFLOW_VOBIZ_AUTH_TOKEN are not set\n"
    )


def test_a_missing_variable_names_the_option(command_engine, monkeypatch):
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(PROJECT_FLOWS))
    result = invoke("push", "vobiz", "appointment", "connect", "--call", "c1")
    assert result.exit_code == 1
    assert (
        "`variables.confirmation_code` is not set for this call: pass --var confirmation_code=…"
        in (result.output)
    )


def test_genesys_pauses_are_waited_out_by_the_command(command_engine, monkeypatch):
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(PUSH_FLOWS))
    with PlatformServer("genesys") as server:
        for key, value in server.config.items():
            monkeypatch.setenv(f"TONEFLOW_{key}", value)
        result = invoke("push", "genesys", "pushes", "split", "--call", GENESYS_CALL)
    assert result.exit_code == 0, result.output
    assert "  after waiting 1200 ms" in result.output
    first, second = server.received
    assert second.at - first.at >= 1.2


def test_lint_checks_a_flow_against_a_push_platform(cli_env):
    result = invoke("lint", "--platform", "genesys", "flows/conference_pin.yaml")
    assert result.exit_code == 1
    assert (
        "flows/conference_pin.yaml:12:17: error: steps.join[0].send_digits.digits: cannot send "
        "key '*' at position 5 in genesys (genesys allows 0-9): pushed to genesys, this step is "
        "refused"
    ) in result.output
    assert invoke("lint", "--platform", "vicidial", "flows/conference_pin.yaml").exit_code == 0
    assert invoke("lint", "--platform", "vobiz").exit_code == 0


def test_lint_points_at_the_character_a_platform_refuses(cli_env, tmp_path):
    flow = tmp_path / "half.yaml"
    flow.write_text('steps:\n  s:\n    - send_digits: "1w2"\n')
    result = invoke("lint", "--platform", "vicidial", str(flow))
    assert result.exit_code == 1
    assert (
        f"{flow}:3:22: error: steps.s[0].send_digits.digits: cannot write the 500 ms pause 'w' at "
        "position 2" in result.output
    )
    assert invoke("lint", str(flow)).exit_code == 0  # served as MiniVoice, it is fine
