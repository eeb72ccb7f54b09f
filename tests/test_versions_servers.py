"""Issue 13, part 5: several servers, one truth.

Three gunicorn servers (each its own process group, port and copy of the flow folder) on
one PostgreSQL. Calls are spread across them at random, step by step, while each call's
events arrive concurrently on all three (every event delivered twice, to two servers).
Midway the flow file is changed on one server, which is HUPed; calls that start after
that start there, and their later steps land on servers that never loaded the new
version. Afterwards: no acknowledged event lost or stored twice, no call served two
versions, every call started before the change finished on the old version and every
call started after it on the new one.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from support import (
    GUNICORN,
    POSTGRES_URL,
    PROJECT_FLOWS,
    ROOT,
    START_TIMEOUT,
    free_port,
    reset_postgres,
    server_env,
)

from toneflow.flows.compile import flow_version
from toneflow.store import make_engine, migrate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set"),
]

SERVERS = 3
CALLS_BEFORE = 30
CALLS_AFTER = 30
EVENTS = ("call.ringing", "call.answered", "call.completed")
START = "/answer/minivoice/appointment?confirmation_code=42"
OLD_DONE = "Your appointment is confirmed. Goodbye."
NEW_DONE = "Confirmed, version two. Goodbye."


def edit(path: Path) -> None:
    """The change: ``done`` renamed ``finished``, with new words."""
    text = path.read_text()
    text = text.replace(
        "    - redirect: done\n  done:\n", "    - redirect: finished\n  finished:\n"
    )
    path.write_text(text.replace(OLD_DONE, NEW_DONE))


class Server:
    def __init__(self, number: int, tmp_path: Path) -> None:
        self.name = f"server{number}"
        self.folder = tmp_path / self.name
        self.flows = self.folder / "flows"
        self.flows.mkdir(parents=True)
        shutil.copy(PROJECT_FLOWS / "appointment.yaml", self.flows / "appointment.yaml")
        self.port = free_port()
        env = server_env(
            self.folder,
            self.port,
            DATABASE_URL=POSTGRES_URL,
            TONEFLOW_FLOWS_DIR=str(self.flows),
            TONEFLOW_SERVER_ID=self.name,
            WEB_CONCURRENCY="2",
            WEB_THREADS="8",
        )
        command = [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"]
        self.out = (self.folder / "stdout.log").open("wb")
        self.err = (self.folder / "stderr.log").open("wb")
        self.process = subprocess.Popen(
            [*command, "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=self.out,
            stderr=self.err,
            process_group=0,  # its own process group
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        return (self.folder / "stdout.log").read_text("utf-8")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # this server's own group only
            self.process.wait(timeout=5)
        self.out.close()
        self.err.close()


def request(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    given = {"Content-Type": "application/json", **(headers or {})} if data else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers=given), timeout=15
        ) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def wait_up(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.log()[-3000:]
        try:
            if request(server.url("/healthz"))[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{server.name} did not start: {server.log()[-3000:]}")


class Run:
    """What the clients saw: every answer and every acknowledged event."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self.lock = threading.Lock()
        self.random = random.Random(13)
        self.answers: list[tuple[str, str, int, str]] = []  # call, server, status, body
        self.acked: set[str] = set()
        self.event_posts = 0

    def pick(self) -> Server:
        with self.lock:
            return self.random.choice(self.servers)

    def step(self, call_id: str, path: str, server: Server | None = None) -> str:
        server = server or self.pick()
        sep = "&" if "?" in path else "?"
        status, body = request(server.url(f"{path}{sep}call_id={call_id}"))
        with self.lock:
            self.answers.append((call_id, server.name, status, body))
        return body

    def call(self, call_id: str, first: Server | None = None) -> None:
        """A call's two steps: the start, then wherever its redirect says, on any server."""
        body = self.step(call_id, START, first)
        redirect = json.loads(body)["actions"][-1]["redirect"]["url"]
        time.sleep(self.random.random() * 0.05)
        self.step(call_id, urlsplit(redirect).path)

    def events(self, call_id: str) -> None:
        """Each event twice (a redelivery), to two servers at once."""
        for number, name in enumerate(EVENTS):
            webhook_id = f"msg_{call_id}_{number}"
            event = {
                "event": name,
                "created_at": f"2026-12-01T12:00:0{number}Z",
                "call": {"id": call_id, "status": name.split(".")[1]},
                "variables": {},
                "data": {},
            }
            targets = self.random.sample(self.servers, 2)
            with ThreadPoolExecutor(2) as pool:
                results = list(
                    pool.map(
                        lambda s, e=event, w=webhook_id: request(
                            s.url("/events/minivoice"), e, {"webhook-id": w}
                        ),
                        targets,
                    )
                )
            with self.lock:
                self.event_posts += len(results)
                if any(status == 200 for status, _ in results):
                    self.acked.add(webhook_id)
                assert all(status == 200 for status, _ in results), results


def probe_serves_new(server: Server) -> bool:
    """Every worker of ``server`` serves the new version (several probes, no call id)."""
    for _ in range(6):
        status, body = request(server.url("/answer/minivoice/appointment?confirmation_code=1"))
        if status != 200 or not body.endswith('appointment/finished"}}]}'):
            return False
    return True


@pytest.mark.parametrize("backend", ["postgresql"])  # counted as a PostgreSQL test
def test_three_servers_one_postgresql_a_change_midway(tmp_path, backend):
    reset_postgres(POSTGRES_URL)
    migrate.upgrade(POSTGRES_URL)
    old = flow_version((PROJECT_FLOWS / "appointment.yaml").read_bytes())
    servers = [Server(number, tmp_path) for number in range(SERVERS)]
    engine = make_engine(POSTGRES_URL)
    try:
        for server in servers:
            wait_up(server)
        run = Run(servers)
        before = [f"before_{n}" for n in range(CALLS_BEFORE)]
        after = [f"after_{n}" for n in range(CALLS_AFTER)]
        with ThreadPoolExecutor(8) as pool:
            # Before the change a third of these calls finish; the rest take their first step.
            done_before = before[: CALLS_BEFORE // 3]
            pending = before[CALLS_BEFORE // 3 :]
            whole = [pool.submit(run.call, c) for c in done_before]
            starts = [pool.submit(run.step, c, START) for c in pending]
            event_jobs = [pool.submit(run.events, c) for c in before]
            firsts = [job.result() for job in starts]
            for job in whole:
                job.result()

            # The change, on one server only, then HUP; it is done when every worker of
            # that server serves the new version.
            changed = servers[0]
            edit(changed.flows / "appointment.yaml")
            new = flow_version((changed.flows / "appointment.yaml").read_bytes())
            changed.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 30
            while not probe_serves_new(changed):
                assert time.monotonic() < deadline, changed.log()[-3000:]
                time.sleep(0.3)

            # Old calls go on (anywhere, the changed server too); new calls start on the
            # changed server and go on anywhere, mostly where the new version never was.
            jobs = [
                pool.submit(
                    run.step, c, urlsplit(json.loads(b)["actions"][-1]["redirect"]["url"]).path
                )
                for c, b in zip(pending, firsts, strict=True)
            ]
            jobs += [pool.submit(run.call, c, changed) for c in after]
            event_jobs += [pool.submit(run.events, c) for c in after]
            for job in jobs + event_jobs:
                job.result()

        # Every answer was served (no 404 for a renamed step, no 503).
        assert [a for a in run.answers if a[2] != 200] == []
        with engine.connect() as conn:
            versions = dict(
                conn.execute(
                    sa.text(
                        "select call_id, string_agg(distinct flow_version, ',') from answers "
                        "group by call_id"
                    )
                ).all()
            )
            stored_events = conn.execute(sa.text("select webhook_id from events")).scalars().all()
            answers_stored = conn.execute(sa.text("select count(*) from answers")).scalar()
            loaded = conn.execute(
                sa.text("select version, first_loaded_by from flow_versions")
            ).all()

        # No call served two versions; before on the old, after on the new.
        assert {c: versions[c] for c in before} == dict.fromkeys(before, old)
        assert {c: versions[c] for c in after} == dict.fromkeys(after, new)
        bodies = {(c, b) for c, _, _, b in run.answers if "Goodbye" in b}
        assert all(OLD_DONE in b for c, b in bodies if c.startswith("before_"))
        assert all(NEW_DONE in b for c, b in bodies if c.startswith("after_"))
        # Servers that never loaded the new version served it, from the store.
        elsewhere = {s for c, s, _, b in run.answers if c.startswith("after_") and NEW_DONE in b}
        assert elsewhere - {changed.name}
        # No acknowledged event lost, none stored twice.
        assert len(stored_events) == len(set(stored_events))
        assert set(stored_events) == run.acked
        assert answers_stored == len(run.answers)
        assert dict(loaded)[new] == changed.name and set(dict(loaded)) == {old, new}

        figures = {
            "servers": SERVERS,
            "calls": len(before) + len(after),
            "answers": len(run.answers),
            "events acknowledged": len(run.acked),
            "event deliveries": run.event_posts,
            "version changes": 1,
            "lost": len(run.acked - set(stored_events)),
            "doubled": len(stored_events) - len(set(stored_events)),
            "calls on two versions": sum("," in v for v in versions.values()),
            "new-version steps served by servers that never loaded it": sum(
                1 for c, s, _, b in run.answers if c.startswith("after_") and s != changed.name
            ),
        }
        print("three-server figures:", json.dumps(figures))
    finally:
        engine.dispose()
        for server in servers:
            server.stop()
