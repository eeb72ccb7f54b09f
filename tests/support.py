"""Helpers shared by test modules (import them from here, never from conftest): the seeds'
own examples, databases and clients, and real gunicorn servers."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from toneflow.store import make_engine, migrate
from toneflow.store.access import create_token

#: The PostgreSQL database the tests may wipe (CI sets it); None: SQLite only.
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
#: CI (``CI=true``) installs every tool the tests use (.ci/run): none may be missing there.
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")

#: The "Real Webhook Example" of seeds/minivoice-send_digits.txt, verbatim.
SEED_WEBHOOK = {
    "event": "call.completed",
    "created_at": "2026-05-29T12:10:00Z",
    "call": {
        "id": "call_123",
        "customer_id": "cust_123",
        "application_id": "app_123",
        "status": "completed",
        "direction": "inbound",
        "from": "+15551230001",
        "to": "+15551230002",
    },
    "variables": {},
    "data": {},
}

ROOT = Path(__file__).resolve().parent.parent
#: The shipped example flows, which most tests serve.
PROJECT_FLOWS = ROOT / "flows"
GUNICORN = Path(sys.executable).with_name("gunicorn")
START_TIMEOUT = 20.0


def require(installed: bool, what: str) -> None:
    """Skip a test whose tool ``what`` is not installed here, but fail it in CI: there
    .ci/run installs it, so a missing tool is a broken CI, not a reason to skip."""
    if installed:
        return
    if IN_CI:
        pytest.fail(f"{what} is not installed, but CI must have it (.ci/run installs it)")
    pytest.skip(f"{what} is not installed (CI installs it: see .ci/run)")


def reset_postgres(url: str) -> None:
    """Wipe a PostgreSQL database back to an empty public schema."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def with_api_token(application):
    """A test client that sends a fresh API token with every request (``/api`` needs one)."""
    from toneflow.store.access import create_token

    engine = application.extensions["toneflow.call_log"].engine
    test_client = application.test_client()
    token = create_token(engine, f"tests-{id(test_client)}")
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(tmp_path: Path, port: int, **settings: str) -> dict[str, str]:
    """The shell's environment without any toneflow or gunicorn setting, plus ``settings``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TONEFLOW_")
        and name
        not in (
            "DATABASE_URL",
            "PORT",
            "WEB_CONCURRENCY",
            "GUNICORN_CMD_ARGS",
            "PROMETHEUS_MULTIPROC_DIR",  # each server makes its own
        )
    }
    database = f"sqlite:///{tmp_path / 't.db'}"
    migrate.upgrade(database)
    return {
        **env,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "DATABASE_URL": database,
        # gunicorn's control socket goes here, not into the shared home folder.
        "XDG_RUNTIME_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        **settings,
    }


def start(tmp_path: Path, env: dict[str, str], port: int) -> subprocess.Popen:
    """gunicorn as the Procfile runs it, on 127.0.0.1:``port``; output to files in tmp_path."""
    # The bind is given on the command line (it overrides gunicorn.conf.py's $HOST:$PORT)
    # so that the test server is reachable from this host only, whatever HOST says.
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    with (tmp_path / "stdout.log").open("wb") as out, (tmp_path / "stderr.log").open("wb") as err:
        return subprocess.Popen(
            [*command, "app:create_app()"], cwd=ROOT, env=env, stdout=out, stderr=err
        )


def output(tmp_path: Path) -> tuple[str, str]:
    return (
        (tmp_path / "stdout.log").read_text("utf-8"),
        (tmp_path / "stderr.log").read_text("utf-8"),
    )


def wait_until_up(process: subprocess.Popen, port: int, tmp_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}: {output(tmp_path)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer /healthz within {START_TIMEOUT} s: {output(tmp_path)}")


def stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.terminate()
    try:
        return process.wait(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
        raise


@contextlib.contextmanager
def running_server(tmp_path: Path, **settings: str) -> Iterator[tuple[subprocess.Popen, int, str]]:
    """gunicorn serving the shipped flows on a free port with ``settings``, answering:
    its process, its port and an API token; stopped on the way out."""
    port = free_port()
    env = server_env(tmp_path, port, **settings)
    process = start(tmp_path, env, port)
    try:
        wait_until_up(process, port, tmp_path)
        engine = make_engine(env["DATABASE_URL"])
        token = create_token(engine, "tests")
        engine.dispose()
        yield process, port, token
    finally:
        stop(process)


def python_prints(script: str, env: dict[str, str] | None = None) -> str:
    """Run ``script`` in a new interpreter from the project root and return the last line it
    printed: for what a fresh process loads (``sys.modules``), which this one cannot show."""
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
    return result.stdout.strip().splitlines()[-1]


def console_examples(path: Path) -> list[tuple[str, str]]:
    """(command, expected output) for every `$ ` line in a doc's console blocks."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", path.read_text(), re.S):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    examples.append((command, "\n".join(output)))
                command, output = line[2:], []
            elif command is not None:
                output.append(line)
        if command:
            examples.append((command, "\n".join(output)))
    return examples
