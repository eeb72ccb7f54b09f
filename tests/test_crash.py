"""A short run of scripts/crash_test.py, on each backend: killed workers lose no event and
no answer they served."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import ROOT

pytestmark = pytest.mark.slow  # gunicorn workers killed mid-request


def test_acknowledged_events_and_served_answers_survive_workers_killed(database_url):
    command = [
        sys.executable,
        str(ROOT / "scripts" / "crash_test.py"),
        "--events",
        "300",
        "--answers",
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
    # Every answer served (a 200) is on its call's timeline; some were cut by the kills.
    assert figures["answers_served"] >= 1
    assert figures["answers_served"] + figures["answers_not_served"] == 300
    assert figures["answers_lost"] == 0
    assert figures["answers_recorded"] >= figures["answers_served"]
    assert figures["kills"] >= 1
    assert figures["integrity"].startswith("ok")
