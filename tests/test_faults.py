"""When the store cannot be written: events get 503 + Retry-After (the platform retries),
answers are still served and their record is logged in full, /healthz says so, and all of
it recovers by itself when the store returns.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from support import SEED_WEBHOOK

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
#: Stopping PostgreSQL disturbs anything else using the server: only where asked (CI).
RESTART_POSTGRES = os.environ.get("TONEFLOW_TEST_POSTGRES_RESTART") == "1"


def event(number: int) -> dict:
    return {**SEED_WEBHOOK, "call": {**SEED_WEBHOOK["call"], "id": f"fault_{number}"}}


def check_store_down(client, number: int) -> None:
    response = client.post("/events/minivoice", json=event(number))
    assert response.status_code == 503
    assert response.json["error"]["code"] == "store_unavailable"
    assert response.headers["Retry-After"].isdigit()

    with capture_logs() as logs:
        answer = client.get(f"/answer/minivoice/menu?call_id=lost_{number}")
    assert answer.status_code == 200
    assert answer.json["actions"][0]["play"]["url"].endswith("welcome.wav")
    failure = next(e for e in logs if e["event"] == "store_write_failed")
    assert failure["record"]["call_id"] == f"lost_{number}"
    assert failure["record"]["body"] == answer.data.decode()

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json["store"] == "unavailable"


def check_store_back(client, number: int) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.post("/events/minivoice", json=event(number)).json == {"status": "stored"}
    assert client.get(f"/api/calls/fault_{number}").status_code == 200


def test_sqlite_locked_past_its_timeout(tmp_path, client_for):
    from toneflow.store import migrate

    database = tmp_path / "locked.db"
    migrate.upgrade(f"sqlite:///{database}")
    client = client_for(
        {"menu.yaml": (Path(__file__).parent.parent / "flows" / "menu.yaml").read_text()},
        DATABASE_URL=f"sqlite:///{database}",
        SQLITE_BUSY_TIMEOUT_MS=100,
    )
    check_store_back(client, 1)
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        started = time.monotonic()
        check_store_down(client, 2)
        assert time.monotonic() - started < 5  # each wait is the 100 ms timeout, not more
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    check_store_back(client, 3)


def _cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            version,
            "main",
            action,
            *(["-m", "fast"] if action == "stop" else []),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.skipif(
    not (POSTGRES_URL and RESTART_POSTGRES),
    reason="stops the real PostgreSQL: set TEST_DATABASE_URL and "
    "TONEFLOW_TEST_POSTGRES_RESTART=1 (CI does)",
)
def test_postgresql_stopped_and_restarted(client_for):
    import sqlalchemy as sa

    from toneflow.store import migrate

    sa_engine = sa.create_engine(POSTGRES_URL)
    with sa_engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    sa_engine.dispose()
    migrate.upgrade(POSTGRES_URL)
    client = client_for(
        {"menu.yaml": (Path(__file__).parent.parent / "flows" / "menu.yaml").read_text()},
        DATABASE_URL=POSTGRES_URL,
    )
    check_store_back(client, 10)
    _cluster("stop")
    try:
        check_store_down(client, 11)
    finally:
        _cluster("start")
    deadline = time.monotonic() + 30
    while client.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, "the store did not come back"
        time.sleep(0.5)
    check_store_back(client, 12)
    assert json.loads(client.get("/api/calls/fault_12").data)["status"] == "completed"
