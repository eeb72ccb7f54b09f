"""The app under real gunicorn processes, as the Procfile runs it (127.0.0.1 only)."""

from __future__ import annotations

import http.client
import json
import runpy
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from support import (
    ROOT,
    SEED_WEBHOOK,
    START_TIMEOUT,
    free_port,
    output,
    running_server,
    server_env,
    start,
    stop,
)


def get(port: int, path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as reply:
        return reply.status, dict(reply.headers), reply.read()


def post_chunked(port: int, path: str, chunks: list[bytes], headers: dict[str, str]):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(
            "POST",
            path,
            body=iter(chunks),
            headers={"Content-Type": "application/json", **headers},
            encode_chunked=True,
        )
        reply = connection.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        connection.close()


@pytest.fixture
def server(tmp_path):
    with running_server(tmp_path, TONEFLOW_MAX_BODY_BYTES="1000") as running:
        yield running


@pytest.mark.slow
def test_gunicorn_serves_answers_events_and_limits_chunked_bodies(server, tmp_path):
    process, port, token = server

    status, headers, body = get(
        port, "/answer/minivoice/appointment?call_id=g1&confirmation_code=1234"
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    minivoice_request_id = headers["X-Request-ID"]
    assert json.loads(body)["actions"][1:] == [
        {"send_digits": {"digits": "1234#", "pause_before_ms": 2000}},
        {"redirect": {"url": f"http://127.0.0.1:{port}/answer/minivoice/appointment/done"}},
    ]
    minivoice_body = body

    status, headers, body = get(port, "/answer/ozml/dtmf_parties?CallId=g2")
    assert status == 200
    assert headers["Content-Type"] == "application/xml; charset=utf-8"
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response>')
    assert [(e.tag, e.attrib) for e in ET.fromstring(body) if e.tag == "SendDTMF"] == [
        ("SendDTMF", {"Party": "caller", "Keys": "123"}),
        ("SendDTMF", {"Party": "callee", "Keys": "321"}),
    ]

    # A chunked body has no Content-Length: the limit must still hold.
    status, headers, body = post_chunked(
        port, "/events/minivoice", [b"{", b" " * 600, b" " * 600, b"}"], {"X-Request-ID": "big-1"}
    )
    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert headers["X-Request-ID"] == "big-1"

    # Within the limit, a chunked event is read whole and stored, for every worker to see.
    webhook = json.dumps(SEED_WEBHOOK).encode()
    status, _, body = post_chunked(
        port, "/events/minivoice", [webhook[:10], webhook[10:]], {"webhook-id": "msg_g"}
    )
    assert (status, json.loads(body)) == (200, {"status": "stored"})
    for _ in range(4):  # two workers: ask more than once
        status, _, body = get(port, "/api/calls/call_123", token)
        assert status == 200
        assert json.loads(body)["events"][0]["body"] == SEED_WEBHOOK
    status, _, body = get(port, "/api/calls/g1", token)
    assert json.loads(body)["answers"][0]["body"] == minivoice_body.decode()

    assert stop(process) == 0
    stdout, _ = output(tmp_path)
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]  # all JSON
    assert lines
    [served] = [
        line for line in lines if line.get("call_id") == "g1" and line["event"] == "answer_served"
    ]
    assert served["request_id"] == minivoice_request_id
    assert served["body"] == minivoice_body.decode()
    access = [line for line in lines if line.get("logger") == "gunicorn.access"]
    assert all("request_id" in line for line in access)
    [too_large] = [line for line in access if '" 413 ' in line["event"]]
    assert too_large["request_id"] == "big-1"  # its own id, not the worker's previous request
    assert "call_id" not in too_large
    assert any(line["event"] == "app_created" for line in lines)


@pytest.mark.slow
def test_gunicorn_refuses_to_start_on_a_broken_flow_set(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "ok.yaml").write_text("steps:\n  s:\n    - hangup: {}\n")
    (flows / "bad.yaml").write_text("steps:\n  a:\n    - speak: hi\n    - speek: typo\n")
    port = free_port()
    process = start(tmp_path, server_env(tmp_path, port, TONEFLOW_FLOWS_DIR=str(flows)), port)
    try:
        returncode = process.wait(timeout=START_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    assert returncode != 0
    stdout, stderr = output(tmp_path)
    assert f"{flows / 'bad.yaml'}:4:7: error: " in stdout + stderr
    assert "unknown action 'speek'" in stdout + stderr


def refused(tmp_path, **settings: str) -> tuple[int, str, str]:
    """Start gunicorn with ``settings``, expecting it to refuse; its exit code and output."""
    port = free_port()
    process = start(tmp_path, server_env(tmp_path, port, **settings), port)
    try:
        returncode = process.wait(timeout=START_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    return (returncode, *output(tmp_path))


REFUSAL = "toneflow: not starting (fix what is said above)"


@pytest.mark.slow
def test_a_broken_flow_set_prints_only_its_problems_and_the_refusal(tmp_path):
    flows = ROOT / "tests" / "data" / "broken_flows"
    returncode, stdout, stderr = refused(tmp_path, TONEFLOW_FLOWS_DIR=str(flows))
    assert returncode != 0
    assert "Traceback" not in stdout + stderr
    lines = stderr.splitlines()
    assert lines[0] == "3 error(s) in the flow files:"
    assert all(line.startswith(f"{flows / 'broken.yaml'}:") for line in lines[1:-1])
    assert len(lines) == 6 and lines[-1] == REFUSAL


@pytest.mark.slow
def test_a_never_migrated_store_refuses_gunicorn_naming_the_upgrade(tmp_path):
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    returncode, stdout, stderr = refused(tmp_path, DATABASE_URL=fresh)
    assert returncode != 0
    assert "Traceback" not in stdout + stderr
    assert stderr.splitlines() == [
        "the database has never been migrated: run `toneflow db upgrade` "
        "(the Procfile's release: line does)",
        REFUSAL,
    ]


@pytest.mark.slow
def test_a_bad_setting_refuses_gunicorn_naming_it(tmp_path):
    returncode, stdout, stderr = refused(tmp_path, TONEFLOW_MAX_DIGITS="0")
    assert returncode != 0
    assert "Traceback" not in stdout + stderr
    assert stderr.splitlines() == [
        "TONEFLOW_MAX_DIGITS must be a positive whole number, not 0",
        REFUSAL,
    ]


@pytest.mark.slow
def test_a_store_down_at_start_up_does_not_stop_gunicorn_serving_answers(tmp_path):
    port = free_port()
    down = "postgresql+psycopg://toneflow@127.0.0.1:1/calls"  # nothing listens on port 1
    process = start(tmp_path, server_env(tmp_path, port, DATABASE_URL=down), port)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, output(tmp_path)
            try:
                status, _, body = get(port, "/answer/minivoice/menu?call_id=down1")
                break
            except OSError:
                assert time.monotonic() < deadline, output(tmp_path)
                time.sleep(0.1)
        assert status == 200 and json.loads(body)["actions"]
        with pytest.raises(urllib.error.HTTPError) as health:
            get(port, "/healthz")
        assert health.value.code == 503
        assert json.loads(health.value.read())["store"] == "unavailable"
    finally:
        stop(process)
    stdout, _ = output(tmp_path)
    assert '"event": "store_unreachable_at_start_up"' in stdout


def read_config(monkeypatch, tmp_path) -> dict:
    """gunicorn.conf.py's settings, read in this process without changing its environment.

    The config points PROMETHEUS_MULTIPROC_DIR at a folder when it is unset; set here,
    monkeypatch takes it back, so later servers and commands do not share this one.
    """
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # the config sets its own
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_the_gunicorn_config_reads_port_and_web_concurrency(monkeypatch, tmp_path):
    monkeypatch.setenv("PORT", "5123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.delenv("TONEFLOW_LOG_FORMAT", raising=False)
    settings = read_config(monkeypatch, tmp_path)
    assert settings["bind"] == "127.0.0.1:5123"
    assert settings["workers"] == 3
    assert settings["preload_app"] is True  # a broken flow set stops the master
    assert settings["accesslog"] == "-"
    assert settings["logconfig_dict"]["loggers"]["gunicorn.access"]["handlers"] == ["stdout"]


def test_the_gunicorn_config_defaults_to_port_8000(monkeypatch, tmp_path):
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    settings = read_config(monkeypatch, tmp_path)
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] >= 2
    assert (settings["worker_class"], settings["threads"]) == ("gthread", 16)


def test_the_gunicorn_config_binds_every_interface_only_when_told(monkeypatch, tmp_path):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "5124")
    assert read_config(monkeypatch, tmp_path)["bind"] == "0.0.0.0:5124"


def test_make_run_binds_this_machine_unless_told():
    def dry_run(*variables: str) -> str:
        command = ["make", "-n", "-C", str(ROOT), "run", *variables]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    assert "HOST=127.0.0.1 PORT=8000 .venv/bin/gunicorn" in dry_run()
    assert "HOST=0.0.0.0 PORT=8000 .venv/bin/gunicorn" in dry_run("HOST=0.0.0.0")


def test_the_procfile_runs_migrations_and_gunicorn_with_this_config():
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert procfile["release"] == "toneflow db upgrade"
    # A platform routes to the dyno's interface, not to its loopback.
    assert procfile["web"] == "HOST=0.0.0.0 gunicorn -c gunicorn.conf.py 'app:create_app()'"
