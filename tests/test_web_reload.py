"""Reloading flows while serving: edits count on the next request in development, a HUP
counts under gunicorn, and a broken edit never replaces the set being served."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from support import free_port, output, server_env, start, stop, wait_until_up

from app import create_app
from toneflow.logs import configure_logging
from toneflow.store import migrate

GOOD = 'steps:\n  hello:\n    - speak: "{text}"\n'
BROKEN = "steps:\n  hello:\n    - speek: hi\n    - send_digits: '12X'\n"


def write(folder: Path, name: str, text: str) -> None:
    """Write a flow file so that its change is seen even on coarse-mtime file systems."""
    path = folder / name
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


@pytest.fixture
def folder(tmp_path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    write(flows, "greet.yaml", GOOD.format(text="one"))
    return flows


@pytest.fixture
def make_app(app_config, folder):
    apps = []

    def build(**config):
        migrate.upgrade(app_config["DATABASE_URL"])
        app = create_app({**app_config, "FLOWS_DIR": str(folder), **config})
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["toneflow.call_log"].engine.dispose()


def spoken(client, flow: str = "greet") -> str | int:
    reply = client.get(f"/answer/minivoice/{flow}")
    return (
        reply.json["actions"][0]["speak"]["text"] if reply.status_code == 200 else reply.status_code
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_with_reload_an_edit_counts_on_the_next_request(make_app, folder):
    client = make_app(RELOAD=True).test_client()
    assert spoken(client) == "one"
    write(folder, "greet.yaml", GOOD.format(text="two"))
    assert spoken(client) == "two"
    write(folder, "new.yaml", GOOD.format(text="new"))
    assert spoken(client, "new") == "new"
    (folder / "new.yaml").unlink()
    assert spoken(client, "new") == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_broken_edit_keeps_the_last_good_set_and_logs_every_error(make_app, folder):
    client = make_app(RELOAD=True).test_client()
    write(folder, "greet.yaml", GOOD.format(text="two"))
    assert spoken(client) == "two"
    write(folder, "greet.yaml", BROKEN)
    with capture_logs() as logs:
        assert spoken(client) == "two"
        assert spoken(client) == "two"
    problems = [entry["problem"] for entry in logs if entry["event"] == "flow_problem"]
    path = folder / "greet.yaml"
    assert problems == [
        f"{path}:3:7: error: steps.hello[0].speek: unknown action 'speek' (did you mean "
        "'speak'?); actions are: send_digits, speak, play, collect_digits, redirect, transfer, "
        "hangup",
        f"{path}:4:23: error: steps.hello[1].send_digits.digits: invalid DTMF character 'X' at "
        "position 3 (minivoice allows 0-9 * # A-D w W ,)",
    ]  # once, not once per request
    [refused] = [entry for entry in logs if entry["event"] == "flows_reload_refused"]
    assert (refused["errors"], refused["serving"], refused["log_level"]) == (2, ["greet"], "error")
    write(folder, "greet.yaml", GOOD.format(text="three"))
    with capture_logs() as logs:
        assert spoken(client) == "three"
    assert [entry["flows"] for entry in logs if entry["event"] == "flows_reloaded"] == [["greet"]]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_debug_mode_reloads_too(make_app, folder):
    app = make_app()
    app.debug = True
    client = app.test_client()
    write(folder, "greet.yaml", GOOD.format(text="debug"))
    assert spoken(client) == "debug"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_reload_the_files_are_read_once(make_app, folder):
    client = make_app().test_client()
    write(folder, "greet.yaml", GOOD.format(text="two"))
    assert spoken(client) == "one"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reloaded_static_step_is_rendered_anew(make_app, folder):
    """Static steps are cached as bytes: a reload must not serve the old bytes."""
    client = make_app(RELOAD=True).test_client()
    assert client.get("/answer/ozml/greet").data.endswith(b"<Speak>one</Speak></Response>")
    write(folder, "greet.yaml", GOOD.format(text="two"))
    assert client.get("/answer/ozml/greet").data.endswith(b"<Speak>two</Speak></Response>")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_start_up_logs_warnings_with_their_position(make_app, folder, capsys):
    write(folder, "greet.yaml", 'steps:\n  hello:\n    - send_digits: "1w2"\n')
    try:
        make_app()  # configures logging itself, so its lines are read from stdout
        out = capsys.readouterr().out
    finally:
        with contextlib.redirect_stdout(sys.__stdout__):  # not capsys's stream, closed next
            configure_logging("json")
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    [warning] = [line for line in lines if line["event"] == "flow_problem"]
    assert warning["level"] == "warning"
    assert warning["problem"].startswith(f"{folder / 'greet.yaml'}:3:22: warning: ")


# --- gunicorn: a graceful reload (HUP) ----------------------------------------------------


def fetch(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def wait_for(check, what: str, tmp_path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    stdout, stderr = output(tmp_path)
    pytest.fail(f"{what} within {timeout} s; last output: {stdout[-3000:]} {stderr[-3000:]}")


@pytest.mark.slow
def test_gunicorn_hup_picks_up_new_flows_and_refuses_a_broken_set(tmp_path, folder):
    """preload_app builds the app once in the master; HUP alone would fork workers with
    the flows read at start. The on_reload hook reads them again, all or nothing."""
    port = free_port()
    env = server_env(tmp_path, port, TONEFLOW_FLOWS_DIR=str(folder))
    process = start(tmp_path, env, port)
    try:
        wait_until_up(process, port, tmp_path)
        assert fetch(port, "/answer/minivoice/added")[0] == 404
        write(folder, "added.yaml", GOOD.format(text="added"))
        write(folder, "greet.yaml", GOOD.format(text="two"))
        process.send_signal(signal.SIGHUP)

        def serves(flow: str, text: str) -> bool:
            # Every worker: several fetches land on both of them.
            return all(text in fetch(port, f"/answer/minivoice/{flow}")[1] for _ in range(6))

        wait_for(lambda: serves("added", "added") and serves("greet", "two"), "new flows", tmp_path)

        write(folder, "greet.yaml", BROKEN)
        write(folder, "added.yaml", GOOD.format(text="changed beside a broken file"))
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: "flows_reload_refused" in output(tmp_path)[0], "a refusal", tmp_path)
        time.sleep(1.0)  # the new workers are up by now
        assert serves("greet", "two")
        assert serves("added", "added")  # all or nothing: the good file waits too
        lines = [
            json.loads(line) for line in output(tmp_path)[0].splitlines() if line.startswith("{")
        ]
        problems = [line["problem"] for line in lines if line.get("event") == "flow_problem"]
        assert (
            f"{folder / 'greet.yaml'}:3:7: error: steps.hello[0].speek: unknown action"
            in (problems[0])
        )
        assert problems[1].startswith(f"{folder / 'greet.yaml'}:4:23: error: ")
        assert process.poll() is None  # still serving
    finally:
        assert stop(process) == 0
