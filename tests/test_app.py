"""The application factory: what it reads, what it builds, and what makes it refuse to start."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask
from support import with_api_token

from app import create_app
from toneflow.config import ConfigError
from toneflow.flows.problems import FlowSetError
from toneflow.logs import configure_logging
from toneflow.store import migrate, normalize_url

ROOT = Path(__file__).resolve().parent.parent
PROBLEM_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): error: (?P<message>.+)$"
)
ONE_FLOW = "steps:\n  s:\n    - hangup: {}\n"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No setting leaks in from the shell that runs the tests."""
    for name in list(os.environ):
        if name.startswith("TONEFLOW_") or name in ("DATABASE_URL", "PORT"):
            monkeypatch.delenv(name)


@pytest.fixture
def built():
    """Build apps from the environment alone; dispose of their engines afterwards."""
    apps: list[Flask] = []

    def build(config: dict | None = None) -> Flask:
        application = create_app(config)
        apps.append(application)
        return application

    yield build
    for application in apps:
        application.extensions["toneflow.call_log"].engine.dispose()


def write_flows(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


@pytest.fixture
def env_db(monkeypatch, database_url) -> str:
    """``DATABASE_URL`` in the environment, pointing at a migrated database."""
    migrate.upgrade(database_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


# --- import builds nothing --------------------------------------------------------


def test_importing_app_builds_nothing(tmp_path):
    """gunicorn imports ``app`` and calls create_app: the import alone must do no work."""
    database = tmp_path / "not-yet" / "t.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "TONEFLOW_FLOWS_DIR": str(tmp_path / "no-such-folder"),  # create_app would refuse
    }
    script = (
        "import flask, app\n"
        "apps = [v for v in vars(app).values() if isinstance(v, flask.Flask)]\n"
        "print(len(apps), callable(app.create_app))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "True"]
    assert not database.parent.exists()  # no engine made, so no SQLite folder either
    assert "app_created" not in result.stdout + result.stderr


# --- the environment is honoured --------------------------------------------------


def test_create_app_reads_the_environment(monkeypatch, tmp_path, env_db, built):
    flows = write_flows(tmp_path / "env-flows", {"only.yaml": ONE_FLOW})
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(flows))
    monkeypatch.setenv("TONEFLOW_MAX_DIGITS", "7")
    monkeypatch.setenv("TONEFLOW_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("TONEFLOW_PUBLIC_URL", "https://ivr.example.com")
    app = built()
    assert sorted(app.extensions["toneflow.flows"].flows) == ["only"]
    assert app.extensions["toneflow.flows"].max_digits == 7
    assert app.config["MAX_CONTENT_LENGTH"] == 4096
    assert app.config["PUBLIC_URL"] == "https://ivr.example.com"
    engine_url = app.extensions["toneflow.call_log"].engine.url
    assert engine_url == normalize_url(env_db)
    client = with_api_token(app)
    assert client.get("/answer/minivoice/only?call_id=env1").status_code == 200
    assert client.get("/api/calls/env1").json["flow"] == "only"  # stored in DATABASE_URL


def test_a_relative_flows_dir_is_relative_to_the_working_directory(
    monkeypatch, tmp_path, env_db, built
):
    write_flows(tmp_path / "here" / "my-flows", {"local.yaml": ONE_FLOW})
    monkeypatch.chdir(tmp_path / "here")
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", "my-flows")
    assert sorted(built().extensions["toneflow.flows"].flows) == ["local"]


def test_the_default_flows_dir_is_flows_in_the_working_directory(monkeypatch, env_db, built):
    monkeypatch.chdir(ROOT)
    assert sorted(built().extensions["toneflow.flows"].flows) == [
        "appointment",
        "conference_pin",
        "dtmf_parties",
        "menu",
    ]


@pytest.mark.parametrize("value", ["abc", "0"])
def test_a_bad_max_digits_stops_start_up_naming_the_variable(monkeypatch, env_db, value):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("TONEFLOW_MAX_DIGITS", value)
    with pytest.raises(ConfigError, match="TONEFLOW_MAX_DIGITS"):
        create_app()


FIVE_DIGITS = """
    steps:
      s:
        - send_digits: "12345"
"""


def test_max_digits_refuses_a_flow_with_longer_literal_digits(monkeypatch, tmp_path, env_db):
    flows = write_flows(tmp_path / "f", {"five.yaml": FIVE_DIGITS})
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(flows))
    monkeypatch.setenv("TONEFLOW_MAX_DIGITS", "4")
    with pytest.raises(FlowSetError) as caught:
        create_app()
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.severity) == (str(flows / "five.yaml"), 4, "error")
    assert "the limit is 4" in problem.message
    assert f"{flows / 'five.yaml'}:4:" in str(caught.value)


def test_max_digits_at_the_length_of_the_digits_loads(monkeypatch, tmp_path, env_db, built):
    flows = write_flows(tmp_path / "f", {"five.yaml": FIVE_DIGITS})
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(flows))
    monkeypatch.setenv("TONEFLOW_MAX_DIGITS", "5")
    client = built().test_client()
    assert client.get("/answer/minivoice/five").json == {
        "actions": [{"send_digits": {"digits": "12345"}}]
    }


def test_max_digits_applies_to_rendered_digits_too(monkeypatch, tmp_path, env_db, built):
    flows = write_flows(
        tmp_path / "f",
        {
            "code.yaml": """
            fallback: sorry
            steps:
              s:
                - send_digits: "{{ variables.code }}"
              sorry:
                - hangup: {}
            """
        },
    )
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(flows))
    monkeypatch.setenv("TONEFLOW_MAX_DIGITS", "4")
    client = with_api_token(built())
    assert client.get("/answer/minivoice/code?code=1234").json == {
        "actions": [{"send_digits": {"digits": "1234"}}]
    }
    assert client.get("/answer/minivoice/code?code=12345&call_id=long1").json == {
        "actions": [{"hangup": {}}]
    }
    assert "the limit is 4" in client.get("/api/calls/long1").json["outcome"]["reason"]


# --- a broken flow set stops start-up ---------------------------------------------


def test_a_broken_flow_folder_stops_start_up_listing_every_problem(app_config, tmp_path):
    flows = write_flows(
        tmp_path / "broken",
        {
            "good.yaml": ONE_FLOW,
            "typo.yaml": """
                steps:
                  a:
                    - speek: hello
                    - redirect: nowhere
                """,
            "syntax.yaml": "steps: [\n",
            "digits.yml": 'steps:\n  a:\n    - send_digits: "12X"\n',
        },
    )
    with pytest.raises(FlowSetError) as caught:
        create_app({**app_config, "FLOWS_DIR": str(flows)})
    lines = str(caught.value).splitlines()
    assert lines[0] == "4 error(s) in the flow files:"
    problems = [PROBLEM_LINE.match(line) for line in lines[1:]]
    assert all(problems), lines
    found = [(Path(m["file"]).name, int(m["line"]), int(m["column"])) for m in problems]
    assert found == [
        ("digits.yml", 3, 23),  # the X itself
        ("syntax.yaml", 2, 1),
        ("typo.yaml", 4, 7),
        ("typo.yaml", 5, 17),
    ]
    messages = [m["message"] for m in problems]
    assert "unknown action 'speek'" in messages[2]
    assert "'nowhere'" in messages[3]
    assert "invalid DTMF character 'X' at position 3" in messages[0]


def test_a_missing_flow_folder_stops_start_up(app_config, tmp_path):
    with pytest.raises(FlowSetError, match="does not exist"):
        create_app({**app_config, "FLOWS_DIR": str(tmp_path / "missing")})


def test_an_empty_flow_folder_starts_and_serves_nothing(client_for):
    client = client_for({})
    assert client.get("/healthz").json["flows"] == 0
    assert client.get("/answer/minivoice/menu").status_code == 404


# --- public URL -------------------------------------------------------------------


def test_public_url_is_used_in_every_absolute_url(client_for):
    client = client_for({}, FLOWS_DIR=str(ROOT / "flows"), PUBLIC_URL="https://ivr.example.com")
    greet = client.get("/answer/minivoice/menu", base_url="http://10.0.0.5:8000").json
    assert greet["actions"][1] == {
        "redirect": {"url": "https://ivr.example.com/answer/minivoice/menu/menu"}
    }
    menu = client.get("/answer/minivoice/menu/menu", base_url="http://10.0.0.5:8000").json
    assert menu["actions"][1]["collect_digits"]["action_url"] == (
        "https://ivr.example.com/answer/minivoice/menu/route"
    )
    ozml = ET.fromstring(client.get("/answer/ozml/menu/menu").data)
    assert ozml.find("UserInput").get("ForwardToUrl") == (
        "https://ivr.example.com/answer/ozml/menu/route"
    )


def test_public_url_from_the_environment(monkeypatch, env_db, built):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("TONEFLOW_PUBLIC_URL", "https://calls.example.org/")
    client = built().test_client()
    greet = client.get("/answer/ozml/menu", base_url="http://internal:9000").data
    assert ET.fromstring(greet).find("GoTo").text == (
        "https://calls.example.org/answer/ozml/menu/menu"  # no doubled slash
    )


def test_public_url_with_a_path_prefix_keeps_it(client_for):
    client = client_for({}, FLOWS_DIR=str(ROOT / "flows"), PUBLIC_URL="https://x.example/ivr")
    assert client.get("/answer/minivoice/menu").json["actions"][1]["redirect"]["url"] == (
        "https://x.example/ivr/answer/minivoice/menu/menu"
    )


def test_without_public_url_the_request_host_is_used(client_for):
    client = client_for({}, FLOWS_DIR=str(ROOT / "flows"), PUBLIC_URL=None)
    for base, expected in [
        ("http://calls.example:8080", "http://calls.example:8080/answer/minivoice/menu/menu"),
        ("https://other.example", "https://other.example/answer/minivoice/menu/menu"),
    ]:
        body = client.get("/answer/minivoice/menu", base_url=base).json
        assert body["actions"][1]["redirect"]["url"] == expected


# --- what start-up logs -----------------------------------------------------------


def test_start_up_logs_the_flows_and_hides_the_database_password(app_config, capsys):
    url = "postgresql://toneflow:s3cret-pw@127.0.0.1:1/calls"  # never connected to
    try:
        app = create_app({**app_config, "DATABASE_URL": url})
        app.extensions["toneflow.call_log"].engine.dispose()
        out = capsys.readouterr().out
    finally:
        with contextlib.redirect_stdout(sys.__stdout__):  # not capsys's stream, closed next
            configure_logging("json")
    assert "s3cret-pw" not in out
    [created] = [json.loads(line) for line in out.splitlines() if '"app_created"' in line]
    assert created["flows"] == ["appointment", "conference_pin", "dtmf_parties", "menu"]
    assert created["database"] == "postgresql+psycopg://toneflow:***@127.0.0.1:1/calls"


def test_an_unsupported_database_url_stops_start_up(app_config):
    with pytest.raises(ValueError, match="unsupported database URL"):
        create_app({**app_config, "DATABASE_URL": "mysql://db/calls"})


def test_static_steps_are_rendered_at_start_up_when_the_public_url_is_known(app):
    """gunicorn forks after create_app: workers start with these bytes, not an empty cache."""
    menu = app.extensions["toneflow.flows"].get("menu")
    key = ("goodbye", "ozml", app.config["PUBLIC_URL"])
    assert key in menu.cache
    assert menu.cache[key].startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response>')
    assert not any(step == "route" for step, _, _ in menu.cache)  # a switch is per request
