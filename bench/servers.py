"""gunicorn servers for the benchmark: both sides started the same way, with one config.

Each server is ``gunicorn -c gunicorn.conf.py`` (gthread workers, ``WEB_CONCURRENCY``
of them, preload, access log: exactly what the Procfile runs), bound to 127.0.0.1 on a
free port, with its output in a log file so a terminal never slows either side.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
START_TIMEOUT = 60.0
#: Settings the shell may hold that must not leak into either server.
CLEARED = ("DATABASE_URL", "PORT", "GUNICORN_CMD_ARGS", "PROMETHEUS_MULTIPROC_DIR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without toneflow settings, plus ``settings``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TONEFLOW_", "BENCH_")) and name not in CLEARED
    }
    return {**env, **settings}


@dataclass
class Server:
    """One gunicorn master and its workers."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, bytes]:
        with urllib.request.urlopen(self.base + path, timeout=5) as reply:
            return reply.status, reply.read()

    def workers(self) -> list[int]:
        """The worker pids: the master's children."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far.

        Per request, this is what toneflow costs whatever else the machine is doing:
        requests per second drop when other processes take the cores, CPU per request
        hardly moves.
        """
        ticks = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start(name: str, app: str, env: dict[str, str], folder: Path, ready_path: str) -> Server:
    """Start ``app`` under gunicorn and wait until ``ready_path`` answers 200."""
    port = free_port()
    log = folder / f"{name}.log"
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    if app.startswith("bare:"):
        command += ["--pythonpath", str(Path(__file__).resolve().parent)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, app], cwd=ROOT, env={**env, "PORT": str(port)}, stdout=out, stderr=out
        )
    server = Server(name, port, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
        try:
            if server.get(ready_path)[0] == 200 and len(server.workers()) > 0:
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not start within {START_TIMEOUT} s; see {log}")


def memory_kib(pid: int) -> dict[str, int]:
    """A process's resident set (RSS) and its proportional share (PSS), in KiB.

    RSS counts pages shared with the master (preloaded flows, libraries) in full; PSS
    divides them among the processes sharing them, so it is what a worker really adds.
    """
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            values[key.lower()] = int(rest.split()[0])
    return values
