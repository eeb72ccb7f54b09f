"""The README's examples are true: each `$ command` runs, and prints what the README says.

A real gunicorn serves the shipped flows on a free loopback port with a fresh SQLite
store; commands run in order (the call story builds on itself) through bash, exactly as
written, with only the host:port and the venv's path substituted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, console_examples, free_port, server_env, start, stop, wait_until_up

pytestmark = pytest.mark.slow  # gunicorn serving the README's examples

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 30


def readme_examples() -> list[tuple[str, str]]:
    """(command, expected output) for every `$ ` line in a console block."""
    return console_examples(ROOT / "README.md")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("readme")
    port = free_port()
    env = server_env(tmp_path, port)
    process = start(tmp_path, env, port)
    try:
        wait_until_up(process, port, tmp_path)
        # The README's `toneflow` commands (tokens, users) work on the server's store.
        yield port, {**os.environ, "DATABASE_URL": env["DATABASE_URL"]}
    finally:
        stop(process)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl")
def test_every_readme_example_prints_what_the_readme_says(server):
    server, command_env = server
    examples = readme_examples()
    assert len(examples) >= 8
    for command, expected in examples:
        # A reader runs the token examples more than once: the second run must work too.
        for _ in range(2 if "tokens create" in command else 1):
            printed = run_example(command, server, command_env)
            assert printed == expected, f"README example differs: $ {command}"
    assert any("tokens create" in command for command, _ in examples)


def run_example(command: str, port: int, env: dict[str, str]) -> str:
    """What the README's ``$ command`` prints against the test server, as the README shows it."""
    local = command.replace("localhost:8000", f"127.0.0.1:{port}").replace(".venv/bin/", f"{BIN}/")
    result = subprocess.run(
        ["bash", "-c", local], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    return (
        (result.stdout + result.stderr).replace(f"127.0.0.1:{port}", "localhost:8000").rstrip("\n")
    )
