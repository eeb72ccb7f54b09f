"""toneflow.store.engine: one engine per backend, its SQLite settings, and PostgreSQL's
driver as an extra (without it, a PostgreSQL URL is a refusal saying so)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import requires

import pytest
from support import PROJECT_FLOWS

from app import REFUSALS, create_app
from toneflow.store.engine import (
    POSTGRES_EXTRA,
    SQLITE_BUSY_TIMEOUT_MS,
    UnsupportedDatabase,
    make_engine,
)

URLS = ["postgres://u@db.invalid/calls", "postgresql://u@db.invalid/calls"]


@pytest.fixture
def no_psycopg(monkeypatch):
    """As if ``toneflow[postgres]`` were not installed: importing psycopg fails."""
    monkeypatch.setitem(sys.modules, "psycopg", None)


def test_psycopg_is_only_a_dependency_of_the_postgres_extra():
    psycopg = [line for line in requires("toneflow") if line.startswith("psycopg")]
    assert psycopg and all('extra == "postgres"' in line for line in psycopg)


@pytest.mark.parametrize("url", URLS)
def test_a_postgres_url_without_the_driver_is_refused_naming_the_extra(no_psycopg, url):
    with pytest.raises(UnsupportedDatabase) as caught:
        make_engine(url)
    message = str(caught.value)
    assert "PostgreSQL" in message and "'psycopg' is not installed" in message
    assert message.endswith(POSTGRES_EXTRA) and "toneflow[postgres]" in POSTGRES_EXTRA


def test_start_up_refuses_it_as_a_refusal_not_a_crash(no_psycopg):
    config = {"DATABASE_URL": URLS[1], "FLOWS_DIR": str(PROJECT_FLOWS), "LOG_FORMAT": "json"}
    with pytest.raises(REFUSALS, match=r"pip install 'toneflow\[postgres\]'"):
        create_app(config)


def test_the_command_line_says_it_without_a_traceback(tmp_path):
    """``make run`` meets the database first in ``toneflow db upgrade``."""
    script = (
        "import sys; sys.modules['psycopg'] = None; sys.argv = ['toneflow', 'db', 'upgrade']\n"
        "from toneflow.cli import main; main()\n"
    )
    env = {**os.environ, "DATABASE_URL": URLS[1], "TONEFLOW_FLOWS_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "pip install 'toneflow[postgres]'" in done.stderr


def test_with_the_driver_a_postgres_url_still_makes_an_engine_without_connecting():
    engine = make_engine(URLS[1])
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:p@db.invalid:5432/toneflow",
        "postgresql://u:p@db.invalid:5432/toneflow",
        "postgresql+psycopg://u:p@db.invalid:5432/toneflow",
    ],
    ids=["heroku-scheme", "bare-scheme", "psycopg-scheme"],
)
def test_postgres_urls_use_psycopg_and_creating_the_engine_does_not_connect(url):
    engine = make_engine(url)  # db.invalid never resolves: connecting would fail here
    assert engine.dialect.name == "postgresql"
    assert engine.dialect.driver == "psycopg"
    assert engine.url.host == "db.invalid"
    engine.dispose()


def test_sqlite_engine_creates_the_folder_but_not_the_database(tmp_path):
    path = tmp_path / "instance" / "nested" / "toneflow.db"
    engine = make_engine(f"sqlite:///{path}")
    assert path.parent.is_dir()
    assert not path.exists()
    engine.dispose()


def test_unsupported_database_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://u@localhost/toneflow")


def test_sqlite_runs_wal_full_sync_foreign_keys_and_a_busy_timeout(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite connection settings")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert (
            conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS == 2000
        )


def test_the_sqlite_lock_wait_is_configurable(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=150)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 150
    engine.dispose()
