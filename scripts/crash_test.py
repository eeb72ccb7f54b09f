"""Crash test: acknowledged events and served answers survive workers killed mid-request.

Runs toneflow under gunicorn with several workers, posts N unique signed events from
several threads (retrying, with the same webhook-id, what was not acknowledged — as a
platform does) and asks for M answers with a call id each (not retried), while a killer
thread SIGKILLs a random worker every few tenths of a second. Then it checks that every
acknowledged event is stored exactly once, that every answer served (a 200) is on its
call's timeline, and that the database passes its integrity check. On SQLite the answers
are committed with ``synchronous=NORMAL`` (a record must survive the worker, not power
loss) and the events with FULL; killing the worker is the crash both must survive.

    python scripts/crash_test.py                       # SQLite, 2,000 events
    python scripts/crash_test.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

A PostgreSQL database given here is wiped (its public schema is recreated): use a
scratch database. Exit status 1 when an acknowledged event is lost or stored twice.
Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toneflow.signing import sign  # noqa: E402
from toneflow.store import make_engine, migrate  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"crash-test-secret-32-bytes-long!").decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """Worker pids: the processes whose parent is the gunicorn master."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 is the parent pid; the command name (field 2) may hold spaces.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def reset(url: str) -> None:
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    migrate.upgrade(url)


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WEB_CONCURRENCY": str(workers),
        "TONEFLOW_WEBHOOK_SECRET": SECRET,
        "TONEFLOW_LOG_LEVEL": "warning",
        "XDG_RUNTIME_DIR": str(log.parent),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(gunicorn),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "/dev/null",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn did not start; see {log}")


class Run:
    def __init__(self, port: int, events: int, answers: int, threads: int, deadline: float) -> None:
        self.port, self.deadline = port, deadline
        # Answers and events interleaved, so both kinds of write are cut by the kills.
        self.pending: list[tuple[str, int]] = [("event", n) for n in range(events)]
        self.pending += [("answer", n) for n in range(answers)]
        random.Random(0).shuffle(self.pending)
        self.acknowledged: set[int] = set()
        self.answered: set[int] = set()
        self.answer_failures = 0
        self.attempts = 0
        self.failures = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.send) for _ in range(threads)]

    def body(self, number: int) -> bytes:
        return json.dumps(
            {
                "event": "call.completed",
                "created_at": "2026-05-29T12:10:00Z",
                "call": {"id": f"crash_{number}", "status": "completed"},
                "variables": {},
                "data": {"n": number},
            }
        ).encode()

    def post(self, number: int) -> bool:
        body = self.body(number)
        headers = sign(SECRET, f"msg_crash_{number}", int(time.time()), body)
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/events/minivoice",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return reply.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def answer(self, number: int) -> bool:
        url = f"http://127.0.0.1:{self.port}/answer/minivoice/menu?call_id=crash_answer_{number}"
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                return reply.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def send(self) -> None:
        while time.monotonic() < self.deadline:
            with self.lock:
                if not self.pending:
                    return
                kind, number = self.pending.pop()
            if kind == "answer":
                # Not retried: what counts is that every answer served was recorded.
                served = self.answer(number)
                with self.lock:
                    if served:
                        self.answered.add(number)
                    else:
                        self.answer_failures += 1
                continue
            with self.lock:
                self.attempts += 1
            if self.post(number):
                with self.lock:
                    self.acknowledged.add(number)
            else:
                with self.lock:
                    self.failures += 1
                    self.pending.insert(0, ("event", number))  # redeliver, same webhook-id


def kill_workers(master: int, every: float, stop: threading.Event, kills: list[int]) -> None:
    while not stop.wait(every):
        workers = children(master)
        if workers:
            victim = random.choice(workers)
            try:
                os.kill(victim, signal.SIGKILL)
                kills.append(victim)
            except ProcessLookupError:
                pass


def check(url: str, acknowledged: set[int], answered: set[int]) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT webhook_id, count(*) FROM events GROUP BY webhook_id"
        ).all()
        # No LIKE pattern: psycopg reads a bare % in driver SQL as a placeholder.
        recorded = {
            call_id
            for call_id in conn.exec_driver_sql("SELECT DISTINCT call_id FROM answers").scalars()
            if call_id.startswith("crash_answer_")
        }
        if engine.dialect.name == "sqlite":
            integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
        else:
            integrity = postgres_integrity(conn)
    engine.dispose()
    stored = {webhook_id: count for webhook_id, count in rows}
    lost = [n for n in acknowledged if f"msg_crash_{n}" not in stored]
    twice = [webhook_id for webhook_id, count in stored.items() if count != 1]
    answers_lost = [n for n in answered if f"crash_answer_{n}" not in recorded]
    return {
        "stored": len(stored),
        "lost": len(lost),
        "answers_recorded": len(recorded),
        "answers_lost": len(answers_lost),
        "stored_twice": len(twice),
        "integrity": integrity,
    }


def postgres_integrity(conn) -> str:
    """amcheck on every index of the call log's tables (B-tree structure and ordering)."""
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
    indexes = (
        conn.exec_driver_sql(
            "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname IN ('calls','answers','events')"
        )
        .scalars()
        .all()
    )
    for index in indexes:
        conn.exec_driver_sql(f"SELECT bt_index_check('{index}'::regclass, true)")
    conn.commit()
    return f"ok ({len(indexes)} indexes checked with amcheck)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--answers", type=int, default=1000, help="answers with a call id")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-every", type=float, default=0.3, help="seconds between kills")
    parser.add_argument("--max-seconds", type=float, default=240)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'crash.db'}"
        reset(url)
        port = free_port()
        server = start_server(url, port, args.workers, Path(folder) / "gunicorn.log")
        run = Run(
            port, args.events, args.answers, args.threads, time.monotonic() + args.max_seconds
        )
        stop, kills = threading.Event(), []
        killer = threading.Thread(
            target=kill_workers, args=(server.pid, args.kill_every, stop, kills)
        )
        started = time.monotonic()
        killer.start()
        for thread in run.threads:
            thread.start()
        for thread in run.threads:
            thread.join()
        stop.set()
        killer.join()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        result = {
            "backend": url.split(":")[0],
            "events": args.events,
            "acknowledged": len(run.acknowledged),
            "attempts": run.attempts,
            "failed_attempts": run.failures,
            "answers": args.answers,
            "answers_served": len(run.answered),
            "answers_not_served": run.answer_failures,
            "kills": len(kills),
            "seconds": round(time.monotonic() - started, 1),
            **check(url, run.acknowledged, run.answered),
        }
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    ok = (
        result["lost"] == 0
        and result["stored_twice"] == 0
        and result["answers_lost"] == 0
        and str(result["integrity"]).startswith("ok")
        and result["acknowledged"] == args.events
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
