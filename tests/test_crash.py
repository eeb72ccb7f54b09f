"""A short run of scripts/crash_test.py, on each backend: killed workers lose no event."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import ROOT

pytestmark = pytest.mark.slow  # gunicorn workers killed mid-request


def test_acknowledged_events_survive_workers_killed_mid_request(database_url):
    command = [
        sys.executable,
        str(ROOT / "scripts" / "crash_test.py"),
        "--events",
        "300",
        "--threads",
        "6",
        "--kill-every",
        "0.15",
        "--max-seconds",
        "90",
        "--json",
    ]
    if database_url.startswith("postgresql"):
        command += ["--database-url", database_url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)
    assert figures["acknowledged"] == figures["stored"] == 300
    assert figures["lost"] == figures["stored_twice"] == 0
    assert figures["kills"] >= 1
    assert figures["integrity"].startswith("ok")
