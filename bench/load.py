"""Driving a server with wrk (Debian package ``wrk``) on loopback, and reading its result."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "wrk.lua"
INSTALL_HINT = (
    "the benchmark drives its servers with wrk, which is not installed; "
    "on Debian or Ubuntu: apt-get install wrk"
)


class WrkMissing(RuntimeError):
    pass


def find_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing(INSTALL_HINT)
    return path


@dataclass(frozen=True)
class Load:
    """How hard to push: wrk threads, open connections, seconds per run."""

    threads: int
    connections: int
    seconds: int


def run_wrk(url: str, mode: str, load: Load, tag: str) -> dict:
    """One wrk run against ``url``; returns req/s, p50/p99 in ms and every error count."""
    command = [
        find_wrk(),
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{load.seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(SCRIPT),
        url,
    ]
    env = {"PATH": "/usr/bin:/bin", "BENCH_MODE": mode, "BENCH_TAG": tag}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    line = next((text for text in done.stdout.splitlines() if text.startswith('{"requests"')), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result for {url}: {done.stdout}{done.stderr}")
    raw = json.loads(line)
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 3),
        "p99_ms": round(raw["p99_us"] / 1000, 3),
        "errors": raw["errors"],
    }
