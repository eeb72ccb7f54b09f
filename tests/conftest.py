"""Shared fixtures: a database per test on every backend under test, the app, its clients.

Only fixtures and the terminal summary hook live here; helpers a test module imports are
in tests/support.py.

SQLite always runs. PostgreSQL runs too when TEST_DATABASE_URL is set (CI sets it), so
every store-touching test is exercised on both engines.
"""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from pathlib import Path

import pytest
from support import POSTGRES_URL, PROJECT_FLOWS, reset_postgres, with_api_token

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set"),
    ),
]


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """An empty database: a fresh SQLite file, or a wiped PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'toneflow.db'}"
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def engine(database_url: str):
    """A migrated store's engine, for tests of the store itself."""
    from toneflow.store import make_engine, migrate

    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def pytest_terminal_summary(terminalreporter):
    """Say how many PostgreSQL tests really ran, so CI output proves they did, and print the
    figures tests asked to show."""
    ran = [
        report
        for key in ("passed", "failed")
        for report in terminalreporter.stats.get(key, [])
        if report.when == "call" and "[postgresql" in report.nodeid
    ]
    terminalreporter.write_line(f"postgresql tests run: {len(ran)}")
    # Figures a test records with record_property("summary", text) (the SIP call's pause
    # errors): shown in every run's output, with or without -s.
    for key in ("passed", "failed"):
        for report in terminalreporter.stats.get(key, []):
            for name, text in getattr(report, "user_properties", ()):
                if name == "summary" and report.when == "call":
                    terminalreporter.write_line(str(text))


@pytest.fixture
def flows_dir() -> Path:
    """The folder the app serves flows from; the shipped examples unless a test says."""
    return PROJECT_FLOWS


@pytest.fixture
def app_config(database_url, flows_dir) -> dict:
    return {
        "DATABASE_URL": database_url,
        "FLOWS_DIR": str(flows_dir),
        "PUBLIC_URL": "https://toneflow.test",
        "LOG_FORMAT": "json",
    }


@pytest.fixture
def app(app_config):
    from app import create_app
    from toneflow.store import migrate

    migrate.upgrade(app_config["DATABASE_URL"])
    application = create_app(app_config)
    yield application
    application.extensions["toneflow.call_log"].engine.dispose()


@pytest.fixture
def client(app):
    return with_api_token(app)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def client_for(app_config, tmp_path):
    """Build an app serving exactly the flow files given (name → YAML text); its client."""
    from app import create_app
    from toneflow.store import migrate

    apps = []

    def build(files: dict[str, str], **config):
        folder = tmp_path / f"flows{len(apps)}"
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(textwrap.dedent(text))
        migrate.upgrade(app_config["DATABASE_URL"])
        application = create_app({**app_config, "FLOWS_DIR": str(folder), **config})
        apps.append(application)
        return with_api_token(application)

    yield build
    for application in apps:
        application.extensions["toneflow.call_log"].engine.dispose()


@pytest.fixture
def command_engine(engine, database_url, monkeypatch):
    """A migrated store that ``toneflow`` commands find too: no setting leaks in from the
    shell, and ``DATABASE_URL`` names this store."""
    for name in list(os.environ):
        if name.startswith("TONEFLOW_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    return engine


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    """For CLI tests: no setting leaks in from the shell, nothing is written into the
    project, and logging is put back afterwards."""
    from toneflow.logs import configure_logging

    for name in list(os.environ):
        if name.startswith(("TONEFLOW_", "FLASK_")) or name in ("DATABASE_URL", "PORT"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    # FlaskGroup sets FLASK_RUN_FROM_CLI in os.environ; monkeypatch puts it back after.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    monkeypatch.chdir(PROJECT_FLOWS.parent)
    yield
    # `--help` builds the app, whose logging then writes to CliRunner's closed stream.
    with contextlib.redirect_stdout(sys.__stdout__):
        configure_logging("json")
