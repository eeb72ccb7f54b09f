"""docs/push.md is true: each `$ command` in it runs against the three seed servers and
prints what the page says (durations, times and Vobiz's api_id aside, which differ per
run), with the servers on free ports instead of 8901-8903."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from platform_servers import PlatformServer
from support import ROOT, console_examples

from toneflow.store import migrate

pytestmark = pytest.mark.slow  # a dozen `toneflow` processes, about 20 s

BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "push.md"
PORTS = {"vicidial": 8901, "vobiz": 8902, "genesys": 8903}
#: What differs from run to run, each written one way on both sides.
VARYING = (
    (re.compile(r"\d+(\.\d+)? ms\)"), "N ms)"),
    (re.compile(r"in \d+(\.\d+)? ms\b"), "in N ms"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "TIME"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC"), "TIME"),
    (re.compile(r"\+\d+\.\d+ s\b"), "+N s"),
    (re.compile(r'"api_id": "[0-9a-f-]{36}"'), '"api_id": "UUID"'),
)


def steady(text: str) -> str:
    for pattern, written in VARYING:
        text = pattern.sub(written, text)
    return text


@pytest.fixture
def servers():
    running = {name: PlatformServer(name).start() for name in PORTS}
    yield running
    for server in running.values():
        server.stop()


def test_every_push_example_prints_what_the_page_says(servers, tmp_path):
    url = f"sqlite:///{tmp_path / 'push.db'}"
    migrate.upgrade(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONEFLOW_")}
    env["DATABASE_URL"] = url
    for server in servers.values():
        env |= {f"TONEFLOW_{key}": value for key, value in server.config.items()}
    found = console_examples(DOC)
    assert len(found) >= 8
    for command, expected in found:
        local = command.replace(".venv/bin/", f"{BIN}/")
        for name, port in PORTS.items():
            local = local.replace(f"127.0.0.1:{port}", f"127.0.0.1:{servers[name].port}")
        result = subprocess.run(
            ["bash", "-c", local], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        printed = result.stdout + result.stderr
        for name, port in PORTS.items():
            printed = printed.replace(f"127.0.0.1:{servers[name].port}", f"127.0.0.1:{port}")
        assert steady(printed.rstrip("\n")) == steady(expected), (
            f"docs/push.md differs: $ {command}"
        )
    assert servers["genesys"].received[1].at - servers["genesys"].received[0].at >= 1.2


def test_a_test_server_starts_as_the_page_says_and_prints_what_it_gets(tmp_path):
    """`.venv/bin/python -m tests.platform_servers vicidial --port N`, from the project."""
    import httpx
    from support import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.platform_servers", "vicidial", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout.readline() == (
            f"vicidial test server on http://127.0.0.1:{port}; set:\n"
        )
        assert process.stdout.readline() == (
            f"  export TONEFLOW_VICIDIAL_URL=http://127.0.0.1:{port}\n"
        )
        for _ in range(4):
            process.stdout.readline()  # user, pass, live agents, "every request…"
        query = "source=t&user=6666&pass=1234&agent_user=1000&function=send_dtmf&value=1P"
        reply = httpx.get(f"http://127.0.0.1:{port}/agc/api.php?{query}")
        assert reply.text == "SUCCESS: send_dtmf function set - 1P|6666"
        assert process.stdout.readline() == (
            f"GET /agc/api.php?{query} -> 200 OK: SUCCESS: send_dtmf function set - 1P|6666\n"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
