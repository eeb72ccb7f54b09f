"""When the store cannot be written: events get 503 + Retry-After (the platform retries),
answers are still served and their record is logged in full, /healthz says so, and all of
it recovers by itself when the store returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from support import SEED_WEBHOOK

from toneflow.logs import configure_logging

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


@pytest.mark.slow
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


# --- the store's schema at start-up -------------------------------------------------


def test_a_never_migrated_store_stops_start_up_naming_the_upgrade(app_config):
    from app import create_app
    from toneflow.store.migrate import StoreNotMigrated

    with pytest.raises(StoreNotMigrated, match=r"never been migrated: run `toneflow db upgrade`"):
        create_app(app_config)


def test_a_store_behind_stops_start_up_naming_both_revisions(app_config):
    from app import create_app
    from toneflow.store import migrate

    migrate.upgrade(app_config["DATABASE_URL"], "0001")
    with pytest.raises(migrate.StoreNotMigrated) as caught:
        create_app(app_config)
    message = str(caught.value)
    assert "'0001'" in message and f"behind '{migrate.head()}'" in message
    assert "toneflow db upgrade" in message


def test_a_store_at_a_revision_this_toneflow_does_not_know_stops_start_up(app_config):
    import sqlalchemy as sa

    from app import create_app
    from toneflow.store import make_engine, migrate

    migrate.upgrade(app_config["DATABASE_URL"])
    engine = make_engine(app_config["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(migrate.StoreNotMigrated, match="'9999', which this toneflow does not"):
        create_app(app_config)


def test_a_store_down_at_start_up_still_serves_answers_and_is_checked_again(
    app_config, tmp_path, capsys
):
    """Down at start-up: logged loudly, answers served; back but behind: /healthz says
    not_migrated and logs it; upgraded: ok. Nothing restarts in between."""
    from app import create_app
    from toneflow.store import migrate

    database = tmp_path / "later.db"
    database.mkdir()  # a folder where the file should be: SQLite cannot open it
    url = f"sqlite:///{database}"
    app = create_app({**app_config, "DATABASE_URL": url})
    start_up = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [down] = [e for e in start_up if e["event"] == "store_unreachable_at_start_up"]
    assert down["level"] == "error"
    client = app.test_client()
    try:
        assert client.get("/answer/minivoice/menu?call_id=early1").status_code == 200
        health = client.get("/healthz")
        assert (health.status_code, health.json["store"]) == (503, "unavailable")

        database.rmdir()  # the store comes back, empty
        with capture_logs() as logs:
            behind = client.get("/healthz")
        assert behind.status_code == 503
        assert behind.json == {"status": "degraded", "store": "not_migrated", "flows": 4}
        [loud] = [e for e in logs if e["event"] == "store_not_migrated"]
        assert loud["log_level"] == "error" and "toneflow db upgrade" in loud["hint"]

        migrate.upgrade(url)
        assert client.get("/healthz").json == {"status": "ok", "store": "ok", "flows": 4}
    finally:
        app.extensions["toneflow.call_log"].engine.dispose()
        with contextlib.redirect_stdout(sys.__stdout__):  # not capsys's stream, closed next
            configure_logging("json")
