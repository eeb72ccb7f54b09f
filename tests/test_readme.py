"""The README's examples are true: each `$ command` runs, and prints what the README says.

A real gunicorn serves the shipped flows on a free loopback port with a fresh SQLite
store; commands run in order (the call story builds on itself) through bash, exactly as
written, with only the host:port and the venv's path substituted.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 30


def readme_examples() -> list[tuple[str, str]]:
    """(command, expected output) for every `$ ` line in a console block."""
    examples, blocks = (
        [],
        re.findall(r"```console\n(.*?)```", (ROOT / "README.md").read_text(), re.S),
    )
    for block in blocks:
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from toneflow.store import migrate

    database = f"sqlite:///{tmp_path_factory.mktemp('readme') / 'toneflow.db'}"
    migrate.upgrade(database)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "2", "DATABASE_URL": database}
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "app:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("gunicorn did not start")
            time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=15)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl")
def test_every_readme_example_prints_what_the_readme_says(server):
    examples = readme_examples()
    assert len(examples) >= 8
    for command, expected in examples:
        local = command.replace("localhost:8000", f"127.0.0.1:{server}").replace(
            ".venv/bin/", f"{BIN}/"
        )
        result = subprocess.run(
            ["bash", "-c", local], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
        printed = (
            (result.stdout + result.stderr)
            .replace(f"127.0.0.1:{server}", "localhost:8000")
            .rstrip("\n")
        )
        assert printed == expected, f"README example differs: $ {command}"
